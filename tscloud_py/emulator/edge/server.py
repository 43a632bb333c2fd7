"""The local edge's HTTP side: one loopback port per distribution, found by polling the emulator.

Any edge port also routes by Host header, so a request for a distribution's
``*.cloudfront.net`` name or an alias reaches it whichever port it came in on.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.emulator.edge.http_io import read_request, write_response
from tscloud_py.emulator.edge.pipeline import Edge
from tscloud_py.loopback import Loopback, QuietHandler, serve


@dataclass(frozen=True)
class Served:
    id: str
    domain: str
    aliases: tuple[str, ...]
    url: str


def _handler(fleet: EdgeFleet, dist_id: str) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def version_string(self) -> str:
            return "tscloud-local-edge"

        def _serve(self) -> None:
            req = read_request(self)
            if req is None:
                return
            write_response(self, fleet.edge.handle(fleet.route(self.headers.get("Host"), dist_id), req))

        def _safe(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._serve()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _safe

    return Handler


def _alias_matches(alias: str, host: str) -> bool:
    """As CloudFront matches aliases: exactly, or ``*.example.com`` for one more label in front."""
    if alias.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == alias[2:]
    return host == alias


class PortBook:
    """The port each distribution was served on, kept in a file so its URL survives a restart."""

    def __init__(self, path: Path) -> None:
        from tscloud_py.emulator.home import read_json

        self.path = path
        self._ports = {k: v for k, v in read_json(path).items() if isinstance(v, int)}

    def get(self, dist_id: str) -> int:
        return self._ports.get(dist_id, 0)

    def record(self, dist_id: str, port: int) -> None:
        from tscloud_py.emulator.home import write_json

        if self._ports.get(dist_id) != port:
            self._ports[dist_id] = port
            write_json(self.path, dict(self._ports))


class EdgeFleet:
    """Keeps one edge server per distribution in the emulator."""

    def __init__(self, edge: Edge, cloudfront: CloudFront, *, host: str = "127.0.0.1",
                 on_new: Callable[[Served], None] | None = None, ports: PortBook | None = None) -> None:
        self.edge, self.cloudfront, self.host, self.on_new, self.ports = edge, cloudfront, host, on_new, ports
        self._servers: dict[str, Loopback] = {}
        self.served: dict[str, Served] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def sync(self) -> list[Served]:
        """Serve every distribution the emulator has now; stop serving deleted ones. Returns the new ones."""
        summaries = {s["Id"]: s for s in self.cloudfront.iter_distributions()}
        new: list[Served] = []
        with self._lock:
            for dist_id in set(self._servers) - set(summaries):
                self._close(dist_id)
            for dist_id, summary in summaries.items():
                aliases = tuple((summary.get("Aliases") or {}).get("Items") or ())
                if dist_id in self._servers:
                    old = self.served[dist_id]
                    self.served[dist_id] = Served(dist_id, old.domain, aliases, old.url)
                    continue
                server = self._bind(dist_id)
                self._servers[dist_id] = server
                served = Served(dist_id, str(summary["DomainName"]), aliases, server.url)
                self.served[dist_id] = served
                new.append(served)
        for served in new:
            if self.on_new is not None:
                self.on_new(served)
        return new

    def _bind(self, dist_id: str) -> Loopback:
        """The distribution's own port from an earlier run when it is free, else any free one."""
        wanted = self.ports.get(dist_id) if self.ports is not None else 0
        try:
            server = serve(_handler(self, dist_id), name=f"edge-{dist_id}", host=self.host, port=wanted)
        except OSError:
            server = serve(_handler(self, dist_id), name=f"edge-{dist_id}", host=self.host)
        if self.ports is not None:
            self.ports.record(dist_id, server.port)
        return server

    def route(self, host_header: str | None, fallback: str) -> str:
        """The distribution a Host header names (its domain or an alias), else the port's own."""
        host = (host_header or "").rsplit(":", 1)[0].lower()
        for served in list(self.served.values()):
            if host == served.domain.lower() or any(_alias_matches(a.lower(), host) for a in served.aliases):
                return served.id
        return fallback

    def poll(self, interval: float = 1.0, on_error: Callable[[Exception], None] | None = None) -> None:
        """Keep syncing in the background, so distributions deployed later are served too."""
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sync()
                except Exception as exc:  # the emulator going away must not kill the poller silently
                    if on_error is not None:
                        on_error(exc)

        self._poller = threading.Thread(target=loop, name="edge-poll", daemon=True)
        self._poller.start()

    def _close(self, dist_id: str) -> None:
        self._servers.pop(dist_id).close()
        self.served.pop(dist_id, None)

    def close(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)
        with self._lock:
            for dist_id in list(self._servers):
                self._close(dist_id)
        self.edge.close()


def open_fleet(factory: Any, *, log: Callable[[Any], None] | None = None,
               on_new: Callable[[Served], None] | None = None, ports: PortBook | None = None) -> EdgeFleet:
    """An edge fleet over the emulator ``factory`` points at (a ClientFactory)."""
    from tscloud_py.aws.apigateway import ApiGateway
    from tscloud_py.aws.cloudwatch import CloudWatch
    from tscloud_py.aws.ecr import Ecr
    from tscloud_py.aws.ecs import Ecs
    from tscloud_py.aws.elbv2 import Elbv2
    from tscloud_py.aws.s3 import S3
    from tscloud_py.aws.secrets import Secrets
    from tscloud_py.aws.wafv2 import CLOUDFRONT_REGION, Wafv2
    from tscloud_py.emulator.edge.alb_origin import AlbOrigin
    from tscloud_py.emulator.edge.alb_tasks import ServiceTasks
    from tscloud_py.emulator.edge.functions import FunctionRuntime
    from tscloud_py.emulator.edge.lambda_origin import FunctionUrlOrigin, RestApiOrigin
    from tscloud_py.emulator.edge.origins import OriginBackend, Origins
    from tscloud_py.emulator.edge.web_acl import WebAclGate

    cloudfront = CloudFront(factory)
    tasks = ServiceTasks(Ecs(factory), Ecr(factory), Secrets(factory))
    functions = FunctionUrlOrigin()
    backends: dict[str, OriginBackend] = {"lambda-url": functions, "alb": AlbOrigin(Elbv2(factory), tasks, cloudfront),
                                          "rest-api": RestApiOrigin(ApiGateway(factory), functions)}
    web_acls = WebAclGate(Wafv2(factory), CloudWatch(factory, CLOUDFRONT_REGION))
    edge = Edge(cloudfront, Origins(S3(factory), backends), FunctionRuntime(), log=log, web_acls=web_acls)
    return EdgeFleet(edge, cloudfront, on_new=on_new, ports=ports)
