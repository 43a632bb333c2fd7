"""One way to serve HTTP on loopback: a server on a daemon thread, and the handler base every such server uses.

The emulator (moto's server, Function URLs, REST API stages, the edge's
distributions and ALB listeners) and the local Lambda Runtime API all serve
this way. It sits at the top of the package, not in ``emulator/``, because
``lambda_runtime`` uses it too and the SSR doctor runs ``lambda_runtime``
without the emulator.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, chunked bodies), no request log, and Nagle off: headers and body go out in
    separate writes, and with Nagle on the client's delayed ACK adds ~40 ms to every response."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Threading(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A peer that hung up (a runtime process that died in init or was killed at its timeout, a client
        # closing its connection) is no fault of the server: no traceback on stderr for it.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


class Loopback:
    """A started server: ``url`` to reach it, ``close()`` to stop it and free its port."""

    def __init__(self, server: HTTPServer, *, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port/``"""
        return f"http://{self.address}/"

    def join(self) -> None:
        self._thread.join()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(handler: type[BaseHTTPRequestHandler], *, name: str, host: str = HOST, port: int = 0) -> Loopback:
    """Serve ``handler`` on ``host:port`` (a free port by default), one daemon thread per connection."""
    return Loopback(_Threading((host, port), handler), name=name)

