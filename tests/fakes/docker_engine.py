"""A fake Docker Engine API on a local unix socket (there is no Docker engine on CI machines).

It speaks enough of the real API for the docker SDK: ``/_ping``, ``/version``, ``POST /build``
(reads the tar context, checks the Dockerfile is in it, streams JSON progress with the image id),
``POST /images/{name}/tag``, ``GET /images/{name}/json`` and ``POST /images/{name}/push`` — which
enforces registry auth the way a registry does: the ``X-Registry-Auth`` header must carry the
username and password of the registry's current token (``check_auth``), else the stream reports
``unauthorized``. A successful push hands the manifest to ``on_push`` (tests put it into ECR) and
streams the digest. At push time it also records whether a private DOCKER_CONFIG was on disk.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import socketserver
import tarfile
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

API_VERSION = "1.43"


@dataclass
class Build:
    tag: str
    dockerfile: str
    platform: str
    target: str | None
    buildargs: dict[str, str]
    files: list[str]
    image_id: str


@dataclass
class Push:
    repository: str
    tag: str
    auth: dict[str, Any] | None
    ok: bool
    digest: str | None = None
    config_files: list[tuple[str, int]] = field(default_factory=list)  # (path, mode) seen at push time


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FakeDockerEngine:
    def __init__(self, socket_path: Path, *, check_auth: Callable[[str, str, str], bool],
                 on_push: Callable[[str, str, str], str]) -> None:
        self.socket_path = socket_path
        self.check_auth = check_auth
        self.on_push = on_push
        self.builds: list[Build] = []
        self.pushes: list[Push] = []
        self.images: dict[str, str] = {}  # reference -> image id
        self._server: _UnixHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> str:
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def address_string(self) -> str:
                return "unix"

            def _handle(self) -> None:
                engine._serve(self)

            do_GET = do_POST = do_HEAD = _handle

        self._server = _UnixHTTPServer(str(self.socket_path), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.socket_path.unlink(missing_ok=True)

    # -- protocol -------------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        path = re.sub(r"^/v\d+\.\d+", "", parsed.path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        body = self._body(h)
        if path == "/_ping":
            return self._send(h, 200, b"OK", "text/plain")
        if path == "/version":
            return self._json(h, 200, {"ApiVersion": API_VERSION, "MinAPIVersion": "1.24", "Version": "24.0.7",
                                       "Os": "linux", "Arch": "amd64"})
        if path == "/build" and h.command == "POST":
            return self._build(h, query, body)
        m = re.fullmatch(r"/images/(.+)/(json|tag|push)", path)
        if m:
            name, op = unquote(m.group(1)), m.group(2)
            if op == "json":
                ref = name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"
                if ref not in self.images:
                    return self._json(h, 404, {"message": f"No such image: {name}"})
                return self._json(h, 200, {"Id": self.images[ref], "RepoTags": [ref]})
            if op == "tag":
                src = name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"
                if src not in self.images:
                    return self._json(h, 404, {"message": f"No such image: {name}"})
                self.images[f"{query['repo']}:{query.get('tag', 'latest')}"] = self.images[src]
                return self._send(h, 201, b"", "text/plain")
            return self._push(h, name, query.get("tag", "latest"))
        return self._json(h, 404, {"message": f"page not found: {h.command} {path}"})

    def _build(self, h: BaseHTTPRequestHandler, query: dict[str, str], body: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tar:
            files = sorted(m.name for m in tar.getmembers() if m.isfile())
            digest = hashlib.sha256(b"".join(tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                                             if m.isfile())).hexdigest()
        dockerfile = query.get("dockerfile", "Dockerfile")
        if dockerfile not in files:
            return self._stream(h, [{"message": f"Cannot locate specified Dockerfile: {dockerfile}"}], 500)
        image_id = f"sha256:{digest}"
        tag = query.get("t", "")
        self.builds.append(Build(tag, dockerfile, query.get("platform", ""), query.get("target") or None,
                                 json.loads(query.get("buildargs") or "{}"), files, image_id))
        if tag:
            self.images[tag if ":" in tag.rsplit("/", 1)[-1] else f"{tag}:latest"] = image_id
        return self._stream(h, [{"stream": "Step 1/2 : FROM scratch\n"}, {"stream": " ---> Running\n"},
                                {"aux": {"ID": image_id}}, {"stream": f"Successfully tagged {tag}\n"}])

    def _push(self, h: BaseHTTPRequestHandler, name: str, tag: str) -> None:
        header = h.headers.get("X-Registry-Auth")
        auth = None
        if header:
            padded = header + "=" * (-len(header) % 4)
            auth = json.loads(base64.urlsafe_b64decode(padded))
        registry = name.split("/", 1)[0]
        configs = [(str(p), p.stat().st_mode & 0o777) for p in Path(tempfile.gettempdir()).glob("tscloud-docker-*/*")]
        push = Push(name, tag, auth, ok=False, config_files=configs)
        self.pushes.append(push)
        ref = f"{name}:{tag}"
        if ref not in self.images:
            return self._stream(h, [{"error": f"An image does not exist locally with the tag: {name}"}])
        if not auth or not self.check_auth(registry, str(auth.get("username")), str(auth.get("password"))):
            return self._stream(h, [{"status": f"The push refers to repository [{name}]"},
                                    {"errorDetail": {"message": "unauthorized: authentication required"},
                                     "error": "unauthorized: authentication required"}])
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                               "config": {"digest": self.images[ref], "size": 1234,
                                          "mediaType": "application/vnd.docker.container.image.v1+json"},
                               "layers": []})
        push.digest = self.on_push(name, tag, manifest)
        push.ok = True
        return self._stream(h, [{"status": f"The push refers to repository [{name}]"},
                                {"status": "Pushed", "id": self.images[ref][7:19]},
                                {"status": f"{tag}: digest: {push.digest} size: {len(manifest)}"},
                                {"aux": {"Tag": tag, "Digest": push.digest, "Size": len(manifest)}}])

    # -- plumbing -------------------------------------------------------------------------
    @staticmethod
    def _body(h: BaseHTTPRequestHandler) -> bytes:
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(h.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    h.rfile.readline()
                    break
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            return b"".join(chunks)
        length = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(length) if length else b""

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Api-Version", API_VERSION)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _json(self, h: BaseHTTPRequestHandler, status: int, doc: Any) -> None:
        self._send(h, status, json.dumps(doc).encode(), "application/json")

    def _stream(self, h: BaseHTTPRequestHandler, lines: list[dict[str, Any]], status: int = 200) -> None:
        """Progress as the daemon sends it: chunked transfer encoding, one JSON object per chunk."""
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Api-Version", API_VERSION)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for line in lines:
            data = json.dumps(line).encode() + b"\r\n"
            h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")


def socket_path(directory: Path) -> Path:
    """A unix socket path short enough for AF_UNIX (108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="fde-", dir="/tmp" if os.path.isdir("/tmp") else None)) / "docker.sock"
    return path if len(str(path)) < 100 else directory / "d.sock"
