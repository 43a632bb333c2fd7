"""What stands between moto's server and the rest of the machine, so the emulator is safe to leave running.

moto's server is built for tests: it echoes any ``Origin`` into ``Access-Control-Allow-Origin``, serves its
whole state (Secrets Manager values included) on ``/moto-api/data.json``, wipes it on ``/moto-api/reset``,
and reads any body it is sent. A web page the user visits could do all of that. ``Guard`` wraps the WSGI
app and refuses, before moto sees it:

- a Host that is not a loopback name (a DNS-rebinding page reaches 127.0.0.1 under its own name);
- an ``Origin`` that is not a loopback address (a cross-site request, preflight or not): 403, no CORS grant;
- ``/moto-api/...`` and tscloud's own ``/_tscloud/...`` without the per-user admin token;
- a body over ``MAX_BODY``, sized or chunked: 413, read into a bounded spool, never into memory.

Every request runs under a shared hold of ``gate`` and a snapshot takes it whole, so a snapshot never sees
a backend halfway through a change.
"""

from __future__ import annotations

import hmac
import json
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import IO, Any
from urllib.parse import urlsplit

from tscloud_py.hosts import is_loopback_host

MAX_BODY = 128 * 1024 * 1024  # a Lambda zip sent inline (50 MB, base64 in JSON) fits; a runaway body does not
SPOOL_IN_MEMORY = 1024 * 1024
TOKEN_HEADER = "X-Tscloud-Token"
ADMIN_PREFIXES = ("/moto-api", "/_tscloud/")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
AdminHandler = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]


def is_loopback_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and is_loopback_host(parts.hostname or "")


class Gate:
    """Many requests at once, or one snapshot alone. A snapshot waits for a moment with no request in
    flight and never holds new requests back while it waits: a request in flight may be waiting on one that
    comes after it (an Invoke whose function, at init, reads its secrets from the emulator), so holding that
    one back until the first ends would deadlock them both."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._exclusive = False

    def enter(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._active += 1

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    def __enter__(self) -> Gate:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive and self._active == 0)
            self._exclusive = True
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._exclusive = False
            self._cond.notify_all()


class Guard:
    def __init__(self, app: WsgiApp, token: str, admin: AdminHandler | None = None,
                 on_write: Callable[[], None] | None = None, max_body: int = MAX_BODY) -> None:
        self.app, self.token, self.admin, self.on_write, self.max_body = app, token, admin, on_write, max_body
        self.gate = Gate()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        refusal = self._refusal(environ)
        if refusal is not None:
            return _answer(start_response, *refusal)
        path = environ.get("PATH_INFO") or "/"
        if path.startswith("/_tscloud/"):
            if self.admin is None:
                return _answer(start_response, 404, "not found")
            status, doc = self.admin(path[len("/_tscloud/"):], environ)
            return _answer(start_response, status, json.dumps(doc), "application/json")
        body = _spooled_body(environ, self.max_body)
        if body is None:
            return _answer(start_response, 413, "request body too large for the local emulator", close=True)
        if body is not False:
            environ["wsgi.input"] = body
        self.gate.enter()
        try:
            # moto builds its whole response here; iterating it later would escape the gate.
            chunks = list(self.app(environ, start_response))
        finally:
            self.gate.leave()
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "OPTIONS") and self.on_write is not None:
            self.on_write()
        return chunks

    def _refusal(self, environ: dict[str, Any]) -> tuple[int, str] | None:
        host = environ.get("HTTP_HOST") or ""
        if not is_loopback_host(host):
            return 403, "the local emulator answers only requests addressed to its loopback address"
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not is_loopback_origin(origin):
            return 403, "the local emulator refuses cross-site requests"
        path = environ.get("PATH_INFO") or "/"
        if path == "/_tscloud/health":
            return None
        if path.startswith(ADMIN_PREFIXES):
            given = environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_")) or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return 403, f"the emulator's admin endpoints need its token ({TOKEN_HEADER})"
        return None


def _spooled_body(environ: dict[str, Any], limit: int) -> IO[bytes] | bool | None:
    """The body, read into a spool (memory up to 1 MB, then a file); None when over ``limit``; False when
    it is sized within the limit and moto may read it as it is."""
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
    if length.isdigit() and not chunked:
        return None if int(length) > limit else False
    if not chunked:
        return False
    stream: IO[bytes] = environ["wsgi.input"]
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - moto reads it after we return
    size = 0
    while piece := stream.read(64 * 1024):
        size += len(piece)
        if size > limit:
            spool.close()
            return None
        spool.write(piece)
    spool.seek(0)
    environ["CONTENT_LENGTH"] = str(size)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    return spool


def _answer(start_response: StartResponse, status: int, text: str, content_type: str = "text/plain",
            close: bool = False) -> list[bytes]:
    from http import HTTPStatus

    body = (text + ("\n" if content_type == "text/plain" else "")).encode()
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if close:
        headers.append(("Connection", "close"))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]
