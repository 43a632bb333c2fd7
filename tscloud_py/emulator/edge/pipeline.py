"""One request through a distribution, in CloudFront's order.

Ask the web ACL the distribution names (``web_acl.py``), pick the cache behavior by path, check the
method, run the viewer-request function (which may read its KeyValueStore and pick another origin with
``cf.updateRequestOrigin``), apply DefaultRootObject, fetch from the behavior's origin (or the one the
function picked), replace an error with the custom error response, run the viewer-response function, add
the response headers policy's headers, then say what served it.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.kvs import KeyValueStores
from tscloud_py.emulator.edge import functions as cff
from tscloud_py.emulator.edge.headers_policy import MANAGED, apply_policy
from tscloud_py.emulator.edge.origins import (
    Distribution,
    EdgeRequest,
    EdgeResponse,
    Origins,
    error_page,
)
from tscloud_py.emulator.edge.routing import (
    Behavior,
    apply_default_root_object,
    behaviors_of,
    custom_error_response,
    match_behavior,
    origin_by_id,
)
from tscloud_py.emulator.edge.web_acl import WebAclGate
from tscloud_py.errors import AwsError


@dataclass(frozen=True)
class LogLine:
    method: str
    path: str
    status: int
    behavior: str
    origin: str
    ms: float

    def render(self) -> str:
        return f"{self.method} {self.path} {self.status} behavior={self.behavior} origin={self.origin} {self.ms:.0f}ms"


def _request_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(42)).decode().rstrip("=")


class Edge:
    def __init__(self, cloudfront: CloudFront, origins: Origins, functions: cff.FunctionRuntime,
                 log: Callable[[LogLine], None] | None = None, web_acls: WebAclGate | None = None) -> None:
        self.cloudfront, self.origins, self.functions, self.log = cloudfront, origins, functions, log
        self.stores = _StoreLookup(KeyValueStores(cloudfront.factory))
        self.web_acls = web_acls

    def close(self) -> None:
        self.functions.close()
        self.origins.close()

    def handle(self, dist_id: str, req: EdgeRequest) -> EdgeResponse:
        started = time.monotonic()
        behavior: Behavior | None = None
        try:
            info = self.cloudfront.get_distribution(dist_id)
            dist = Distribution(info.id, info.arn, info.domain_name, info.config)
            behavior = match_behavior(behaviors_of(dist.config), req.uri)
            response = self._screened(dist, behavior, req) if info.enabled else error_page(
                403, "Distribution disabled", f"distribution {dist_id} is disabled")
        except AwsError as exc:
            response = error_page(502, "Bad gateway", f"the emulator answered {exc.code}: {exc.message}")
        except cff.FunctionError as exc:
            response = error_page(503, "The CloudFront function failed", str(exc))
        except Exception as exc:  # a local tool shows its own failure to the browser instead of hanging up
            response = error_page(502, "Local edge error", f"{type(exc).__name__}: {exc}")
        label = behavior.label() if behavior else "-"
        response.headers = [*response.headers, *self._report(label, response, behavior)]
        if self.log is not None:
            self.log(LogLine(req.method, req.uri + (f"?{req.query}" if req.query else ""), response.status, label,
                             response.origin or "-", (time.monotonic() - started) * 1000))
        return response

    def _screened(self, dist: Distribution, behavior: Behavior, req: EdgeRequest) -> EdgeResponse:
        """The web ACL first (a blocked request reaches no behavior), then the behavior."""
        acl_arn = str(dist.config.get("WebACLId") or "")
        if not acl_arn or self.web_acls is None:
            return self._through(dist, behavior, req)
        blocked, notes = self.web_acls.check(acl_arn, req)
        if blocked is not None:
            return blocked
        response = self._through(dist, behavior, req)
        response.notes = notes + response.notes
        return response

    def _through(self, dist: Distribution, behavior: Behavior, req: EdgeRequest) -> EdgeResponse:
        if req.method not in behavior.allowed_methods:
            return error_page(403, "Method not allowed",
                              f"behavior {behavior.label()} allows {', '.join(behavior.allowed_methods)}, "
                              f"not {req.method}")
        request_id = _request_id()
        event = cff.request_event(method=req.method, uri=req.uri, query=req.query, headers=req.headers,
                                  client_ip=req.client_ip, distribution_id=dist.id,
                                  distribution_domain=dist.domain, request_id=request_id)
        notes: list[str] = []
        chosen: dict[str, Any] | None = None
        if "viewer-request" in behavior.functions:
            ran = self._run(behavior.functions["viewer-request"], event)
            result = ran.value
            if "statusCode" in result:
                response = _generated(result)
                response.origin = "viewer-request function"
                return self._after(dist, behavior, event, response)
            req = _rewritten(req, result)
            notes.append("viewer-request function ran")
            if ran.origin is not None:
                chosen = _updated_origin(ran.origin)
                notes.append(f"cf.updateRequestOrigin: {chosen['DomainName']}")
        req = replace(req, uri=apply_default_root_object(dist.config, req.uri))
        response = self.origins.fetch(dist, chosen, req) if chosen else self._origin(dist, behavior, req)
        error = custom_error_response(dist.config, response.status)
        if error is not None:
            response = self._error_response(dist, req, response, error.page_path, error.response_code)
        response.notes = notes + response.notes
        return self._after(dist, behavior, event, response)

    def _origin(self, dist: Distribution, behavior: Behavior, req: EdgeRequest) -> EdgeResponse:
        origin = origin_by_id(dist.config, behavior.target_origin_id)
        if origin is None:
            return error_page(502, "Bad gateway", f"behavior {behavior.label()} targets unknown origin "
                              f"{behavior.target_origin_id}")
        return self.origins.fetch(dist, origin, req)

    def _error_response(self, dist: Distribution, req: EdgeRequest, failed: EdgeResponse, page: str | None,
                        code: int) -> EdgeResponse:
        """The custom error response: the page comes through the behavior its own path matches."""
        if page is None:
            failed.status = code
            return failed
        _drain(failed.body)
        page_req = EdgeRequest("GET", page, "", req.headers, b"", req.client_ip)
        page_behavior = match_behavior(behaviors_of(dist.config), page)
        served = self._origin(dist, page_behavior, page_req)
        if served.status >= 400:
            _drain(served.body)
            return error_page(failed.status, "Custom error page unavailable",
                              f"the error page {page} itself answered {served.status}", failed.origin)
        served.notes.append(f"custom error response: origin {failed.status} -> {page} as {code}")
        served.status, served.reason = code, ""
        return served

    def _after(self, dist: Distribution, behavior: Behavior, event: dict[str, Any],
               response: EdgeResponse) -> EdgeResponse:
        if "viewer-response" in behavior.functions:
            reason = response.reason or _reason(response.status)
            event = {**event, "context": {**event["context"], "eventType": "viewer-response"},
                     "response": cff.response_block(response.status, reason, response.headers)}
            result = self._run(behavior.functions["viewer-response"], event).value
            response.status = int(result.get("statusCode") or response.status)
            response.reason = str(result.get("statusDescription") or "")
            body_headers = [(k, v) for k, v in response.headers if k.lower() in ("content-length", "content-type")]
            kept = {k.lower() for k, _ in body_headers}
            response.headers = body_headers + [(k, v) for k, v in cff.flat_values(result.get("headers"))
                                               if k.lower() not in kept]
            response.headers += [("Set-Cookie", f"{k}={v}") for k, v in cff.flat_values(result.get("cookies"))]
            response.notes.append("viewer-response function ran")
        policy_id = behavior.response_headers_policy_id
        if policy_id:
            policy = MANAGED.get(policy_id)
            if policy is None:
                response.notes.append(f"response headers policy {policy_id} is not emulated")
            else:
                response.headers = apply_policy(policy, response.headers)
        return response

    def _run(self, arn: str, event: dict[str, Any]) -> cff.FunctionResult:
        name = cff.function_name(arn)
        found = self.cloudfront.describe_function(name, "LIVE")
        code = self.cloudfront.get_function_code(name, "LIVE")
        if found is None or code is None:
            raise cff.FunctionError(f"the associated function {name} has no LIVE stage")
        config = found[0].get("FunctionConfig", {})
        runtime = str(config.get("Runtime") or "cloudfront-js-1.0")
        stores = [str(a.get("KeyValueStoreARN")) for a in (config.get("KeyValueStoreAssociations") or {}).get("Items")
                  or []]
        return self.functions.run(code.decode(), runtime, event, stores=stores, lookup=self.stores)

    def _report(self, label: str, response: EdgeResponse, behavior: Behavior | None) -> list[tuple[str, str]]:
        """What CloudFront would have done, said in headers: the edge has no cache, so every request is a miss."""
        # an answer CloudFront made itself (a web ACL's 403) says so in its own X-Cache
        cache = [] if response.header("X-Cache") else [("X-Cache", "Miss from cloudfront (tscloud local edge: no cache)")]
        out = [*cache, ("X-Tscloud-Behavior", label), ("X-Tscloud-Origin", response.origin or "-"),
               ("Via", "1.1 local-edge (tscloud)"), ("X-Amz-Cf-Pop", "LOCAL"), ("X-Amz-Cf-Id", _request_id())]
        if behavior is not None and behavior.viewer_protocol_policy != "allow-all":
            out.append(("X-Tscloud-Viewer-Protocol", f"{behavior.viewer_protocol_policy} (not enforced on plain "
                        "HTTP here; CloudFront would redirect or refuse http)"))
        if behavior is not None and behavior.lambda_at_edge:
            out.append(("X-Tscloud-Note", f"Lambda@Edge ({', '.join(behavior.lambda_at_edge)}) is not emulated"))
        out += [("X-Tscloud-Note", note) for note in response.notes]
        return out


class _StoreLookup:
    """A function's KeyValueStore reads, answered from the emulator's store through the data plane's API."""

    def __init__(self, kvs: KeyValueStores) -> None:
        self.kvs = kvs

    def get(self, store_arn: str, key: str) -> str | None:
        return self.kvs.get(store_arn, key)

    def meta(self, store_arn: str) -> dict[str, Any]:
        data = self.kvs.describe(store_arn)
        return {"keyCount": data.items}


def _updated_origin(params: dict[str, Any]) -> dict[str, Any]:
    """The origin ``cf.updateRequestOrigin(params)`` names, in the API's shape the origins read."""
    custom = params.get("customOriginConfig") or {}
    origin: dict[str, Any] = {
        "Id": "updateRequestOrigin", "DomainName": str(params["domainName"]),
        "OriginPath": str(params.get("originPath") or ""),
        "CustomOriginConfig": {"HTTPPort": int(custom.get("port") or 80), "HTTPSPort": int(custom.get("port") or 443),
                               "OriginProtocolPolicy": str(custom.get("protocol") or "https") + "-only"},
    }
    access = params.get("originAccessControlConfig") or {}
    if access.get("enabled"):
        origin["OriginAccessControlId"] = "updateRequestOrigin"
    return origin


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _drain(body: Any) -> None:
    for _ in body:
        pass


def _rewritten(req: EdgeRequest, request: dict[str, Any]) -> EdgeRequest:
    """The viewer request as the function left it: uri, querystring, headers and cookies."""
    from urllib.parse import urlencode

    headers = [(k, v) for k, v in cff.flat_values(request.get("headers"))]
    cookies = cff.flat_values(request.get("cookies"))
    if cookies:
        headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
    query = urlencode(cff.flat_values(request.get("querystring")))
    return EdgeRequest(req.method, str(request.get("uri") or req.uri), query, headers, req.body, req.client_ip)


def _generated(result: dict[str, Any]) -> EdgeResponse:
    """A response the viewer-request function produced itself (a redirect, a 403)."""
    body = b""
    block = result.get("body")
    if isinstance(block, dict):
        data = str(block.get("data") or "")
        body = base64.b64decode(data) if block.get("encoding") == "base64" else data.encode()
    elif isinstance(block, str):
        body = block.encode()
    headers = cff.flat_values(result.get("headers")) + [
        ("Set-Cookie", f"{k}={v}") for k, v in cff.flat_values(result.get("cookies"))]
    headers.append(("Content-Length", str(len(body))))
    return EdgeResponse(int(result["statusCode"]), headers, [body], reason=str(result.get("statusDescription") or ""))
