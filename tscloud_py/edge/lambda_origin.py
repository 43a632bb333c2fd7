"""A Lambda Function URL origin at the local edge: the deployed code run under AWS's runtime client.

The function's code comes from the emulator in this process (moto hands out no
downloadable code) and runs in the emulator's warm execution environment for
that function (``tscloud_py.local_invoke``, shared with Invoke and the Function
URL), as Lambda would: invocations queue on it one at a time, a streamed response reaches the
viewer chunk by chunk. CloudFront sends the viewer's headers without Host
(the AllViewerExceptHostHeader policy the presets use), so the function sees its
own URL's host, and the viewer's host only through a header like x-forwarded-host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tscloud_py.edge.origins import HOP_BY_HOP, Distribution, EdgeRequest, EdgeResponse, error_page
from tscloud_py.edge.routing import items_of
from tscloud_py.errors import TscloudError
from tscloud_py.local_lambda import LocalFunction, function_for_url

INIT_GRACE_S = 15.0


class FunctionUrlOrigin:
    def __init__(self, lookup: Callable[[str], LocalFunction | None] = function_for_url) -> None:
        self.lookup = lookup

    def fetch(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest) -> EdgeResponse:
        from tscloud_py.lambda_runtime.events import function_url_event, response_head

        host = str(origin.get("DomainName"))
        label = f"{origin.get('Id')} (lambda-url)"
        fn = self.lookup(host)
        if fn is None:
            return error_page(502, "Bad gateway", f"no function in this emulator has the URL {host}", label)
        if not fn.runtime.startswith("nodejs"):
            return error_page(502, "Bad gateway", f"function {fn.name} runs {fn.runtime}; the local edge runs "
                              "nodejs functions only", label)
        try:
            env = self._environment(fn)
        except TscloudError as exc:
            return error_page(502, "Bad gateway", f"function {fn.name} cannot run here: {exc.message} "
                              f"({exc.hint})", label)
        headers = [(k, v) for k, v in req.headers if k.lower() not in HOP_BY_HOP | {"host", "content-length"}]
        headers += [(str(h.get("HeaderName")), str(h.get("HeaderValue"))) for h in items_of(origin.get("CustomHeaders"))]
        event = function_url_event(req.method, req.uri, query=req.query, headers=headers, body=req.body,
                                   domain=host, source_ip=req.client_ip)
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
            from tscloud_py.lambda_runtime.events import http_result

            result = http_result(inv)
            body = [result.body]
            response_headers = [*result.headers, ("Content-Length", str(len(result.body)))]
        return EdgeResponse(status, [(k, v) for k, v in response_headers if k.lower() not in HOP_BY_HOP], body,
                            origin=label, notes=[f"function {fn.name} ran under aws-lambda-ric"])

    def _environment(self, fn: LocalFunction) -> Any:
        # The emulator's one warm environment for this function, shared with Invoke and its Function URL.
        from tscloud_py.local_invoke import ENVIRONMENTS

        return ENVIRONMENTS.get(fn)

    def close(self) -> None:
        """Nothing of its own to stop: the environments belong to the emulator (closed with it)."""
