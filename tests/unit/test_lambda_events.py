"""HTTP requests as Lambda events (payload 2.0 and 1.0) and Lambda results back as HTTP responses."""

from __future__ import annotations

import base64
import json

from tscloud_py.lambda_runtime.api import Chunk, Invocation
from tscloud_py.lambda_runtime.events import (
    buffered_result,
    function_url_event,
    http_result,
    rest_proxy_event,
)


def test_function_url_event() -> None:
    event = function_url_event("post", "/cart", query="a=1&a=2&b=", body=b"\x00\xff",
                               headers=[("Cookie", "sid=1; theme=dark"), ("X-Multi", "a"), ("X-Multi", "b"),
                                        ("Content-Type", "application/octet-stream")],
                               domain="abc.lambda-url.us-east-1.on.aws")
    assert event["version"] == "2.0" and event["rawPath"] == "/cart" and event["rawQueryString"] == "a=1&a=2&b="
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["domainName"] == "abc.lambda-url.us-east-1.on.aws"
    assert event["cookies"] == ["sid=1", "theme=dark"]
    assert event["headers"]["x-multi"] == "a,b" and event["headers"]["host"] == "abc.lambda-url.us-east-1.on.aws"
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\x00\xff"
    text = function_url_event("PUT", "/", body=b'{"a":1}', headers=[("content-type", "application/json")])
    assert text["body"] == '{"a":1}' and text["isBase64Encoded"] is False
    assert "body" not in function_url_event("GET", "/")


def test_rest_proxy_event() -> None:
    event = rest_proxy_event("GET", "/a/b", query="x=1&x=2", headers=[("Accept", "text/html")], stage="prod")
    assert event["httpMethod"] == "GET" and event["path"] == "/a/b" and event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueHeaders"]["Accept"] == ["text/html"] and event["body"] is None


def test_buffered_results() -> None:
    result = buffered_result(json.dumps({
        "statusCode": 302, "headers": {"location": "/"}, "cookies": ["a=1", "b=2"], "body": ""}).encode())
    assert result.status == 302 and result.header("location") == "/"
    assert [v for k, v in result.headers if k == "set-cookie"] == ["a=1", "b=2"]
    binary = buffered_result(json.dumps({"statusCode": 200, "body": base64.b64encode(b"\x89PNG").decode(),
                                         "isBase64Encoded": True}).encode())
    assert binary.body == b"\x89PNG"
    rest = buffered_result(json.dumps({"statusCode": 200, "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
                                       "body": "ok"}).encode())
    assert [v for k, v in rest.headers if k == "set-cookie"] == ["a=1", "b=2"] and rest.body == b"ok"
    # Payload 2.0: any other value is a 200 JSON body.
    assert buffered_result(b'{"hello": "world"}').status == 200
    assert buffered_result(b'{"hello": "world"}').body == b'{"hello": "world"}'
    assert buffered_result(b"not json").status == 502


def test_streamed_invocation_as_http() -> None:
    inv = Invocation("r1", b"{}", 0, streaming=True,
                     prelude={"statusCode": 201, "headers": {"content-type": "text/html"}, "cookies": ["a=1"]},
                     chunks=[Chunk(0.0, b"<p>"), Chunk(0.1, b"hi</p>")])
    result = http_result(inv)
    assert result.status == 201 and result.body == b"<p>hi</p>"
    assert ("set-cookie", "a=1") in result.headers and result.header("content-type") == "text/html"
    raw = Invocation("r2", b"{}", 0, streaming=True, chunks=[Chunk(0.0, b"plain")])
    assert http_result(raw).status == 200 and http_result(raw).body == b"plain"
    failed = Invocation("r3", b"{}", 0, error={"errorType": "Error", "errorMessage": "boom"})
    assert http_result(failed).status == 502
