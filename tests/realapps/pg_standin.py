"""A Postgres wire-protocol stand-in on loopback: enough for node-postgres to connect and run `select 1`.

The real-runtime tests need a `pg` Pool that really connects (its idle socket is
what keeps Lambda's event loop alive); a Postgres server is not needed for that,
only the startup handshake (trust auth) and simple-query answers.
"""

from __future__ import annotations

import socket
import struct
import threading


def _msg(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + struct.pack("!I", len(payload) + 4) + payload


def _ready() -> bytes:
    return _msg(b"Z", b"I")


def _select_one() -> bytes:
    # One int4 column named after the query's alias, one row.
    field = b"one\0" + struct.pack("!IhIhih", 0, 0, 23, 4, -1, 0)
    row = struct.pack("!h", 1) + struct.pack("!I", 1) + b"1"
    return (_msg(b"T", struct.pack("!h", 1) + field) + _msg(b"D", row)
            + _msg(b"C", b"SELECT 1\0") + _ready())


class PgStandIn:
    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self._closed = False
        threading.Thread(target=self._accept, name="pg-standin", daemon=True).start()

    @property
    def url(self) -> str:
        return f"postgres://app:app@127.0.0.1:{self.port}/app"

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self._startup(conn)
                while True:
                    head = _read(conn, 5)
                    kind, length = head[:1], struct.unpack("!I", head[1:])[0]
                    _read(conn, length - 4)
                    if kind == b"X":
                        return
                    if kind == b"Q":
                        conn.sendall(_select_one())
                    elif kind == b"S":
                        conn.sendall(_ready())
            except (OSError, ConnectionError):
                return

    @staticmethod
    def _startup(conn: socket.socket) -> None:
        while True:
            length = struct.unpack("!I", _read(conn, 4))[0]
            body = _read(conn, length - 4)
            if struct.unpack("!I", body[:4])[0] == 80877103:  # SSLRequest: no TLS here
                conn.sendall(b"N")
                continue
            break
        conn.sendall(_msg(b"R", struct.pack("!I", 0))
                     + _msg(b"S", b"server_version\x0016.0\0") + _msg(b"S", b"client_encoding\0UTF8\0")
                     + _msg(b"K", struct.pack("!II", 1, 2)) + _ready())


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            raise ConnectionError("closed")
        data += part
    return data
