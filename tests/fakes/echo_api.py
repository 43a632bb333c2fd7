"""A hostile provider API: every request is answered with an error whose body echoes the credentials.

A fake because no real DNS provider can be made to echo its caller's credentials on demand; real APIs
and proxies in front of them do echo request headers and bodies in error pages, and the question is
whether any piece of a credential then reaches a message. The echo is placed at ``offset`` characters
into the body, so a test can walk it across every point where a message might be cut.

``shape`` chooses the body: ``text`` (a plain-text error page), ``json`` (the credentials inside a
JSON ``message`` / ``errors`` field, as the provider's own error format would carry them).

``alter`` changes each credential-like word (16 or more characters) of the echo the way real echoes
are altered: ``truncated`` (its first half), ``minus-one`` (its last character dropped), ``upper``
(upper-cased), ``split`` (its first half in one field or line, its second half in another).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ALTERATIONS = ("exact", "truncated", "minus-one", "upper", "split")
_WORD = re.compile(r"[A-Za-z0-9_.+/=-]{16,}")


def altered(text: str, alter: str, half: int = 0) -> str:
    """``text`` with each credential-like word altered; ``half`` (0 or 1) picks the part of a split."""
    def one(word: str) -> str:
        if alter == "truncated":
            return word[:len(word) // 2]
        if alter == "minus-one":
            return word[:-1]
        if alter == "upper":
            return word.upper()
        if alter == "split":
            return word[:len(word) // 2] if half == 0 else word[len(word) // 2:]
        return word

    return _WORD.sub(lambda m: one(m.group()), text)


class EchoApi:
    def __init__(self, *, status: int = 400, shape: str = "text", offset: int = 0, alter: str = "exact") -> None:
        self.status = status
        self.shape = shape
        self.offset = offset
        self.alter = alter
        self.requests = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                api.requests += 1
                echoed = f"Authorization: {self.headers.get('Authorization', '')} body: {raw}"
                text = "x" * api.offset + altered(echoed, api.alter)
                # a split echo carries the second halves in another field (or line)
                other = altered(echoed, api.alter, half=1) if api.alter == "split" else text
                if api.shape == "json":
                    doc: Any = {"code": "BAD", "message": text, "status": "ERROR",
                                "errors": [{"code": 1000, "message": other}]}
                    payload = json.dumps(doc).encode()
                    ctype = "application/json"
                else:
                    payload = (text if other is text else f"{text}\n{other}").encode()
                    ctype = "text/plain"
                self.send_response(api.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @contextmanager
    def running(self) -> Iterator[EchoApi]:
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
