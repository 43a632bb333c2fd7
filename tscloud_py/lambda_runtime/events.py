"""HTTP requests as Lambda events, and Lambda results as HTTP responses.

A Function URL sends the payload format 2.0 event (as an HTTP API does); a REST
API Lambda proxy integration sends format 1.0. A buffered function answers with
``{statusCode, headers, cookies|multiValueHeaders, body, isBase64Encoded}``; a
streamed one sends that metadata as the prelude, then the raw body.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tscloud_py.lambda_runtime.api import Invocation

_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "+json", "+xml")


def _split_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged, cookies


def _body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    if not body:
        return None, False
    if any(t in content_type for t in _TEXT_TYPES):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True


def function_url_event(method: str, path: str, *, query: str = "", headers: Iterable[tuple[str, str]] = (),
                       body: bytes = b"", domain: str = "localhost", source_ip: str = "127.0.0.1") -> dict[str, Any]:
    """The payload 2.0 event a Function URL sends for one request."""
    merged, cookies = _split_headers(headers)
    merged.setdefault("host", domain)
    text, b64 = _body(body, merged.get("content-type", ""))
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path or "/", "rawQueryString": query,
        "headers": merged,
        "requestContext": {
            "accountId": "anonymous", "apiId": domain.split(".")[0], "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {"method": method.upper(), "path": path or "/", "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": merged.get("user-agent", "")},
            "requestId": f"{int(now * 1000):x}", "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": b64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        params: dict[str, str] = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            params[k] = f"{params[k]},{v}" if k in params else v
        event["queryStringParameters"] = params
    if text is not None:
        event["body"] = text
    return event


def rest_proxy_event(method: str, path: str, *, query: str = "", headers: Iterable[tuple[str, str]] = (),
                     body: bytes = b"", domain: str = "localhost", stage: str = "prod",
                     resource: str = "/{proxy+}") -> dict[str, Any]:
    """The payload 1.0 event a REST API Lambda proxy integration sends."""
    pairs = list(headers)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    single.setdefault("Host", domain)
    multi.setdefault("Host", [domain])
    qs = parse_qsl(query, keep_blank_values=True)
    mqs: dict[str, list[str]] = {}
    for k, v in qs:
        mqs.setdefault(k, []).append(v)
    content_type = next((v for k, v in pairs if k.lower() == "content-type"), "")
    text, b64 = _body(body, content_type)
    return {
        "resource": resource, "path": path or "/", "httpMethod": method.upper(),
        "headers": single, "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in mqs.items()} or None,
        "multiValueQueryStringParameters": mqs or None,
        "pathParameters": {"proxy": (path or "/").lstrip("/")} if "{proxy+}" in resource else None,
        "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": method.upper(), "path": f"/{stage}{path}",
                           "stage": stage, "domainName": domain, "requestId": f"{int(time.time() * 1000):x}",
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": text, "isBase64Encoded": b64,
    }


@dataclass
class HttpResult:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _meta_headers(meta: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    headers = meta.get("headers") or {}
    if isinstance(headers, dict):
        out += [(str(k), str(v)) for k, v in headers.items() if v is not None]
    multi = meta.get("multiValueHeaders") or {}
    if isinstance(multi, dict):
        for k, values in multi.items():
            if any(k.lower() == h.lower() for h, _ in out) and k.lower() != "set-cookie":
                continue
            out += [(str(k), str(v)) for v in (values or [])]
    for cookie in meta.get("cookies") or []:
        out.append(("set-cookie", str(cookie)))
    return out


def response_head(inv: Invocation) -> tuple[int, list[tuple[str, str]]]:
    """Status and headers of an invocation's HTTP response, once ``wait_prelude`` returned.

    A streamed response without a prelude is sent as 200 with the body as is
    (what a Function URL does); a function error is a 502.
    """
    if inv.streaming:
        if inv.error is not None and not inv.chunks and inv.prelude is None:
            return 502, [("content-type", "application/json")]
        meta = inv.prelude or {}
        return int(meta.get("statusCode") or 200), _meta_headers(meta)
    if inv.error is not None or inv.result is None:
        return 502, [("content-type", "application/json")]
    result = buffered_result(inv.result)
    return result.status, result.headers


def buffered_result(raw: bytes) -> HttpResult:
    """A buffered handler's return value as the HTTP response a Function URL / HTTP API makes of it."""
    try:
        value = json.loads(raw or b"null")
    except ValueError:
        return HttpResult(502, [("content-type", "application/json")], b'{"Message":"Internal Server Error"}')
    if not isinstance(value, dict) or "statusCode" not in value:
        # Payload 2.0 treats any other value as a 200 JSON body.
        return HttpResult(200, [("content-type", "application/json")], json.dumps(value).encode())
    body = value.get("body")
    data = b""
    if isinstance(body, str):
        data = base64.b64decode(body) if value.get("isBase64Encoded") else body.encode("utf-8")
    return HttpResult(int(value.get("statusCode") or 200), _meta_headers(value), data)


def http_result(inv: Invocation) -> HttpResult:
    """The whole HTTP response of a finished (or response-ended) invocation."""
    status, headers = response_head(inv)
    if inv.streaming:
        return HttpResult(status, headers, inv.body_bytes if status != 502 or inv.chunks else
                          json.dumps({"Message": "Internal Server Error"}).encode())
    if inv.result is not None and inv.error is None:
        return buffered_result(inv.result)
    return HttpResult(502, headers, json.dumps({"Message": "Internal Server Error"}).encode())
