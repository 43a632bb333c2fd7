"""Lambda origins at the local edge (a Function URL, a REST API's proxy integration): the deployed code run
under AWS's runtime client.

The function's code comes from the emulator in this process (moto hands out no
downloadable code) and runs in the emulator's warm execution environment for
that function (``tscloud_py.emulator.lambda_.invoke``, shared with Invoke and the Function
URL), as Lambda would: invocations queue on it one at a time, a streamed response reaches the
viewer chunk by chunk. CloudFront sends the viewer's headers without Host
(the AllViewerExceptHostHeader policy the presets use), so the function sees its
own URL's host, and the viewer's host only through a header like x-forwarded-host.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tscloud_py.aws.apigateway import ApiGateway
from tscloud_py.emulator.edge.origins import (
    HOP_BY_HOP,
    Distribution,
    EdgeRequest,
    EdgeResponse,
    error_page,
)
from tscloud_py.emulator.edge.routing import items_of
from tscloud_py.emulator.lambda_.functions import LocalFunction, function_by_arn, function_for_url
from tscloud_py.errors import TscloudError

INIT_GRACE_S = 15.0


class FunctionUrlOrigin:
    def __init__(self, lookup: Callable[[str], LocalFunction | None] = function_for_url) -> None:
        self.lookup = lookup

    def fetch(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest) -> EdgeResponse:
        from tscloud_py.lambda_runtime.events import function_url_event

        host = str(origin.get("DomainName"))
        label = f"{origin.get('Id')} (lambda-url)"
        fn = self.lookup(host)
        if fn is None:
            return error_page(502, "Bad gateway", f"no function in this emulator has the URL {host}", label)
        event = function_url_event(req.method, req.uri, query=req.query, headers=origin_headers(origin, req),
                                   body=req.body, domain=host, source_ip=req.client_ip)
        return self.invoke(fn, event, label)

    def invoke(self, fn: LocalFunction, event: dict[str, Any], label: str) -> EdgeResponse:
        """One invocation of ``fn`` with ``event``; its HTTP response streams through as the runtime writes it."""
        from tscloud_py.lambda_runtime.events import http_result, response_head

        if not fn.runtime.startswith("nodejs"):
            return error_page(502, "Bad gateway", f"function {fn.name} runs {fn.runtime}; the local edge runs "
                              "nodejs functions only", label)
        try:
            env = self._environment(fn)
        except TscloudError as exc:
            return error_page(502, "Bad gateway", f"function {fn.name} cannot run here: {exc.message} "
                              f"({exc.hint})", label)
        inv = env.start(event)
        if not inv.wait_prelude(INIT_GRACE_S + fn.timeout_s):
            return error_page(504, "Gateway timeout", f"function {fn.name} did not answer", label)
        status, response_headers = response_head(inv)
        if status == 502 and inv.error is not None:
            return error_page(502, "Bad gateway", f"function {fn.name} failed: {inv.error.get('errorType')}: "
                              f"{inv.error.get('errorMessage')}", label)
        body: Iterator[bytes] | list[bytes]
        if inv.streaming:
            body = inv.body(timeout=INIT_GRACE_S + fn.timeout_s)
        else:
            inv.wait_response(INIT_GRACE_S + fn.timeout_s)
            result = http_result(inv)
            body = [result.body]
            response_headers = [*result.headers, ("Content-Length", str(len(result.body)))]
        return EdgeResponse(status, [(k, v) for k, v in response_headers if k.lower() not in HOP_BY_HOP], body,
                            origin=label, notes=[f"function {fn.name} ran under aws-lambda-ric"])

    def _environment(self, fn: LocalFunction) -> Any:
        # The emulator's one warm environment for this function, shared with Invoke and its Function URL.
        from tscloud_py.emulator.lambda_.invoke import ENVIRONMENTS

        return ENVIRONMENTS.get(fn)

    def close(self) -> None:
        """Nothing of its own to stop: the environments belong to the emulator (closed with it)."""


def origin_headers(origin: Mapping[str, Any], req: EdgeRequest) -> list[tuple[str, str]]:
    """What CloudFront sends the origin: the viewer's headers without Host, plus the origin's custom headers."""
    headers = [(k, v) for k, v in req.headers if k.lower() not in HOP_BY_HOP | {"host", "content-length"}]
    return headers + [(str(h.get("HeaderName")), str(h.get("HeaderValue")))
                      for h in items_of(origin.get("CustomHeaders"))]


_INTEGRATION_FUNCTION = re.compile(r"/functions/(arn:[^/]+)/(?:response-streaming-)?invocations$")


class RestApiOrigin:
    """A REST API origin: the Lambda proxy integration of the resource the path hits, invoked as above.

    CloudFront requests ``<origin path><uri>``; the origin path's first segment is the stage, which API
    Gateway strips, so the function sees ``uri`` as its path (payload format 1.0).
    """

    def __init__(self, apigateway: ApiGateway, functions: FunctionUrlOrigin,
                 lookup: Callable[[str], LocalFunction | None] = function_by_arn) -> None:
        self.apigateway, self.functions, self.lookup = apigateway, functions, lookup

    def fetch(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest) -> EdgeResponse:
        from tscloud_py.lambda_runtime.events import rest_proxy_event

        host = str(origin.get("DomainName"))
        label = f"{origin.get('Id')} (rest-api)"
        api_id = host.split(".", 1)[0]
        stage = str(origin.get("OriginPath") or "").strip("/").split("/", 1)[0]
        if not stage:
            return error_page(403, "Forbidden", "a REST API origin needs its stage as the origin path", label)
        resources = {str(r.get("path")): r for r in self.apigateway.resources(api_id)}
        resource = resources.get(req.uri) or resources.get("/{proxy+}")
        if resource is None:
            return error_page(403, "Forbidden", f"REST API {api_id} has no resource for {req.uri}", label)
        # The method's own integration, else ANY's (moto answers an empty one for a method that has none).
        integration = next((found for method in (req.method, "ANY")
                            if (found := self.apigateway.get_integration(api_id, str(resource["id"]), method))
                            and found.get("type")), None)
        match = _INTEGRATION_FUNCTION.search(str((integration or {}).get("uri", "")))
        if integration is None or integration.get("type") != "AWS_PROXY" or match is None:
            return error_page(502, "Bad gateway", f"REST API {api_id} {resource.get('path')} has no Lambda proxy "
                              "integration", label)
        fn = self.lookup(match.group(1))
        if fn is None:
            return error_page(502, "Bad gateway", f"no function {match.group(1)} in this emulator", label)
        event = rest_proxy_event(req.method, req.uri, query=req.query, headers=origin_headers(origin, req),
                                 body=req.body, domain=host, stage=stage, resource=str(resource.get("path")))
        return self.functions.invoke(fn, event, label)

    def close(self) -> None:
        """Nothing of its own to stop (see FunctionUrlOrigin.close)."""
