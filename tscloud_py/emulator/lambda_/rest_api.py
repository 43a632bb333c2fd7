"""The emulator's REST API stages on loopback: a Lambda proxy integration (AWS_PROXY) really invokes its function.

Each deployed stage gets its own loopback port. A request is routed as API
Gateway routes it (the exact resource path, else the nearest ``{proxy+}``; the
method, else ANY), turned into the payload 1.0 event, and handed to the
function's warm environment (tscloud_py.emulator.lambda_.invoke). An integration on the
``response-streaming-invocations`` URI streams the response as the function
writes it; the ``invocations`` URI answers once the function returns. Other
integration types get a 502 that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tscloud_py.emulator.served import ServedOnLoopback
from tscloud_py.lambda_runtime.events import http_result, response_head, rest_proxy_event
from tscloud_py.lambda_runtime.http_out import send_chunked, send_error
from tscloud_py.lambda_runtime.ric_install import RuntimeClientMissingError
from tscloud_py.loopback import QuietHandler

_FUNCTION = re.compile(r":lambda:path/[0-9-]+/functions/(?P<arn>arn:[^/]+)/(?P<kind>invocations|"
                       r"response-streaming-invocations)$")
WAIT_S = 900.0


@dataclass(frozen=True)
class ServedStage:
    api_id: str
    stage: str
    region: str
    account: str
    local_url: str


STAGES: ServedOnLoopback[ServedStage] = ServedOnLoopback("rest-api")


def serve_stage(api_id: str, stage: str, region: str, account: str) -> None:
    STAGES.add((api_id, stage), _handler(api_id, stage, region, account),
               lambda local_url: ServedStage(api_id, stage, region, account, local_url))


def route(resources: list[Any], method: str, path: str) -> tuple[Any, Any] | None:
    """(resource, method) API Gateway picks for ``method path``: exact path, else the deepest {proxy+}."""
    by_path = {r.get_path(): r for r in resources}
    candidates = [by_path.get(path.rstrip("/") or "/")]
    parts = [p for p in path.split("/") if p]
    for depth in range(len(parts), -1, -1):
        base = "/" + "/".join(parts[:depth])
        candidates.append(by_path.get(base.rstrip("/") + "/{proxy+}" if base != "/" else "/{proxy+}"))
    for resource in candidates:
        if resource is None:
            continue
        methods = resource.resource_methods or {}
        found = methods.get(method) or methods.get("ANY")
        if found is not None:
            return resource, found
    return None


def _handler(api_id: str, stage: str, region: str, account: str) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            from moto.apigateway.models import apigateway_backends
            from moto.awslambda.models import lambda_backends

            from tscloud_py.emulator.lambda_ import invoke as local_invoke

            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            backend = apigateway_backends[account][region]
            try:
                resources = list(backend.get_resources(api_id))
            except Exception:  # moto's not-found types
                self._plain(404, f"REST API {api_id} is gone")
                return
            picked = route(resources, self.command, split.path or "/")
            integration = picked[1].method_integration if picked else None
            match = _FUNCTION.search(str(getattr(integration, "uri", "") or ""))
            if picked is None or integration is None or integration.integration_type != "AWS_PROXY" or not match:
                self._plain(502 if picked else 403, "no Lambda proxy integration for this method and path"
                            if picked else "Missing Authentication Token")
                return
            try:
                fn = lambda_backends[account][region].get_function(match.group("arn"))
            except Exception:
                self._plain(502, f"the integration's function {match.group('arn')} does not exist")
                return
            domain = f"{api_id}.execute-api.{region}.amazonaws.com"
            headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"] + [("Host", domain)]
            event = rest_proxy_event(self.command, split.path or "/", query=split.query, headers=headers, body=body,
                                     domain=domain, stage=stage, resource=picked[0].get_path())
            try:
                _, inv = local_invoke.start(fn, event)
            except RuntimeClientMissingError as exc:
                self._plain(502, exc.message)
                return
            if match.group("kind") == "response-streaming-invocations":
                inv.wait_prelude(WAIT_S)
                status, out = response_head(inv)
                chunks = inv.body(WAIT_S)
            else:
                inv.wait_response(WAIT_S)
                result = http_result(inv)
                status, out, chunks = result.status, result.headers, iter([result.body])
            send_chunked(self, status, out, inv.request_id, chunks)

        def _plain(self, status: int, message: str) -> None:
            send_error(self, status, message, key="message")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    return Handler
