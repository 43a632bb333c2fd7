"""The emulator's CloudFront KeyValueStores (moto has neither plane): the store through CloudFront's API, its
keys through the ``cloudfront-keyvaluestore`` API as boto3 sends it to an endpoint of one's own, AWS's rules
(ETag/IfMatch, sizes, pages, errors), and a CloudFront Function reading it with ``cf.kvs()`` in node."""

from __future__ import annotations

import shutil
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cli.site_support import boto
from tests.conftest import MotoServer
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.kvs import KeyValueStores
from tscloud_py.aws.session import ClientFactory
from tscloud_py.emulator.edge.functions import FunctionError, FunctionRuntime, request_event
from tscloud_py.errors import AwsError
from tscloud_py.operations.context import LOCAL_CREDENTIALS
from tscloud_py.presets.preview.router import route_value, router_code


def factory(server: MotoServer) -> ClientFactory:
    return ClientFactory(endpoint_url=server.endpoint, credentials=LOCAL_CREDENTIALS)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_store_and_keys_through_the_client(moto_server: MotoServer) -> None:
    kvs = KeyValueStores(factory(moto_server))
    name = f"routes-{uuid.uuid4().hex[:8]}"
    assert kvs.find(name) is None
    store = kvs.create(name, "routes")
    assert store.status == "READY" and store.arn == f"arn:aws:cloudfront::123456789012:key-value-store/{store.id}"
    assert kvs.create(name, "routes") == store  # a resend after a lost answer adopts it
    empty = kvs.describe(store.arn)
    assert (empty.items, empty.size) == (0, 0)

    written = kvs.put(store.arn, "pr-1.preview.example.com", '{"p":"stages/pr-1"}')
    assert written.etag != empty.etag and written.items == 1
    assert written.size == len("pr-1.preview.example.com") + len('{"p":"stages/pr-1"}')
    assert kvs.get(store.arn, "pr-1.preview.example.com") == '{"p":"stages/pr-1"}'
    assert kvs.get(store.arn, "pr-2.preview.example.com") is None
    for i in range(120):  # three pages of 50
        kvs.put(store.arn, f"k{i:03}", "v")
    assert len(kvs.items(store.arn)) == 121
    assert kvs.delete_key(store.arn, "k000") is not None
    assert kvs.delete_key(store.arn, "k000") is None  # already gone: not an error for the caller
    kvs.delete(name)
    assert kvs.find(name) is None


def test_aws_rules_on_the_data_plane(moto_server: MotoServer) -> None:
    f = factory(moto_server)
    kvs = KeyValueStores(f)
    store = kvs.create(f"rules-{uuid.uuid4().hex[:8]}", "")
    data = f.client("cloudfront-keyvaluestore")  # SigV4 to this endpoint as given (aws/session.py)
    etag = data.describe_key_value_store(KvsARN=store.arn)["ETag"]

    with pytest.raises(ClientError) as stale:
        data.put_key(KvsARN=store.arn, Key="a", Value="1", IfMatch="E-NOT-THE-ETAG")
    assert error_of(stale) == ("ConflictException", 409)
    with pytest.raises(ClientError) as long_key:
        data.put_key(KvsARN=store.arn, Key="k" * 513, Value="1", IfMatch=etag)
    assert error_of(long_key) == ("ValidationException", 400)
    with pytest.raises(ClientError) as long_value:
        data.put_key(KvsARN=store.arn, Key="a", Value="v" * 1025, IfMatch=etag)
    assert error_of(long_value) == ("ValidationException", 400)
    with pytest.raises(ClientError) as missing:
        data.get_key(KvsARN=store.arn, Key="absent")
    assert error_of(missing) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as unknown:
        data.describe_key_value_store(KvsARN=store.arn.replace(store.id, str(uuid.uuid4())))
    assert error_of(unknown) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as page:
        data.list_keys(KvsARN=store.arn, MaxResults=51)
    assert error_of(page) == ("ValidationException", 400)

    # UpdateKeys: puts and deletes at once, under one ETag; the store's 5 MB is a quota, not a validation.
    after = data.update_keys(KvsARN=store.arn, IfMatch=etag, Puts=[{"Key": "a", "Value": "1"},
                                                                  {"Key": "b", "Value": "2"}])
    after = data.update_keys(KvsARN=store.arn, IfMatch=after["ETag"], Puts=[{"Key": "c", "Value": "3"}],
                             Deletes=[{"Key": "a"}])
    assert sorted(i["Key"] for i in data.list_keys(KvsARN=store.arn)["Items"]) == ["b", "c"]
    big = [{"Key": f"{i:0>500}", "Value": "v" * 1024} for i in range(3500)]  # 3500 x 1524 B > 5 MB
    with pytest.raises(ClientError) as full:
        data.update_keys(KvsARN=store.arn, IfMatch=after["ETag"], Puts=big)
    assert error_of(full) == ("ServiceQuotaExceededException", 402)
    assert data.describe_key_value_store(KvsARN=store.arn)["ItemCount"] == 2  # nothing of the refused batch


def test_conflicting_writer_retries_with_a_fresh_etag(moto_server: MotoServer) -> None:
    """Another writer's key lands between our read of the ETag and our write: ours is refused (409), read
    again and written; neither key is lost."""
    kvs = KeyValueStores(factory(moto_server))
    store = kvs.create(f"race-{uuid.uuid4().hex[:8]}", "")
    stale = kvs.describe(store.arn).etag
    kvs.put(store.arn, "theirs", "1")
    notes: list[str] = []
    kvs.put(store.arn, "ours", "2", etag=stale, notify=notes.append)
    assert kvs.items(store.arn) == {"theirs": "1", "ours": "2"}
    assert len(notes) == 1 and "re-reading" in notes[0]


def test_a_store_in_use_is_not_deleted_and_a_function_names_one_store(moto_server: MotoServer) -> None:
    f = factory(moto_server)
    kvs, cf = KeyValueStores(f), CloudFront(f)
    first = kvs.create(f"use-{uuid.uuid4().hex[:8]}", "")
    second = kvs.create(f"use-{uuid.uuid4().hex[:8]}", "")
    name = f"router-{uuid.uuid4().hex[:8]}"
    client = boto(moto_server.endpoint, "cloudfront")
    config: dict[str, Any] = {"Comment": "", "Runtime": "cloudfront-js-2.0", "KeyValueStoreAssociations": {
        "Quantity": 2, "Items": [{"KeyValueStoreARN": first.arn}, {"KeyValueStoreARN": second.arn}]}}
    with pytest.raises(ClientError) as two:
        client.create_function(Name=name, FunctionConfig=config, FunctionCode=router_code(spa=False))
    assert error_of(two)[0] == "InvalidArgument"

    etag = cf.create_function(name, router_code(spa=False), "router", stores=(first.arn,))
    summary, _ = cf.describe_function(name)  # type: ignore[misc]
    assert CloudFront.function_stores(summary) == (first.arn,)
    with pytest.raises(AwsError) as in_use:
        kvs.delete(first.name)
    assert in_use.value.code == "CannotDeleteEntityWhileInUse"
    cf.delete_function(name, etag)
    kvs.delete(first.name)
    assert kvs.find(first.name) is None


class Store:
    """The lookups a function's ``cf.kvs()`` makes, answered from a dict (the runner's side of the wire)."""

    def __init__(self, items: dict[str, str]) -> None:
        self.items = items

    def get(self, store_arn: str, key: str) -> str | None:
        return self.items.get(key)

    def meta(self, store_arn: str) -> dict[str, Any]:
        return {"keyCount": len(self.items)}


ARN = "arn:aws:cloudfront::123456789012:key-value-store/0f0e0d0c-aaaa-bbbb-cccc-000000000001"


def viewer(host: str, uri: str) -> dict[str, Any]:
    return request_event(method="GET", uri=uri, query="", headers=[("Host", host)], client_ip="127.0.0.1",
                         distribution_id="D", distribution_domain="d.cloudfront.net", request_id="r")


@pytest.mark.skipif(shutil.which("node") is None, reason="the function runtime runs in node")
def test_router_reads_the_store_in_node() -> None:
    runtime = FunctionRuntime()
    store = Store({"pr-7.preview.example.com": route_value("stages/pr-7/", "b1", 1)})
    try:
        for spa, uri, wanted in ((True, "/", "/stages/pr-7/index.html"), (True, "/a/b", "/stages/pr-7/index.html"),
                                 (False, "/docs", "/stages/pr-7/docs/index.html"),
                                 (False, "/app.js", "/stages/pr-7/app.js")):
            ran = runtime.run(router_code(spa=spa).decode(), "cloudfront-js-2.0",
                              viewer("pr-7.preview.example.com", uri), stores=[ARN], lookup=store)
            assert ran.value["uri"] == wanted
        missing = runtime.run(router_code(spa=True).decode(), "cloudfront-js-2.0",
                              viewer("pr-9.preview.example.com", "/"), stores=[ARN], lookup=store)
        assert missing.value["statusCode"] == 404
    finally:
        runtime.close()


@pytest.mark.skipif(shutil.which("node") is None, reason="the function runtime runs in node")
def test_cf_module_in_node_meta_origin_and_refusals() -> None:
    runtime = FunctionRuntime()
    code = """import cf from 'cloudfront';
const kvs = cf.kvs('0f0e0d0c-aaaa-bbbb-cccc-000000000001');
async function handler(event) {
  const meta = await kvs.meta();
  const there = await kvs.exists('a');
  cf.updateRequestOrigin({ domainName: 'abc.lambda-url.us-east-1.on.aws',
                           originAccessControlConfig: { enabled: true, originType: 'lambda' } });
  event.request.headers['x-count'] = { value: String(meta.keyCount) + ':' + there };
  return event.request;
}"""
    try:
        ran = runtime.run(code, "cloudfront-js-2.0", viewer("h", "/"), stores=[ARN], lookup=Store({"a": "1"}))
        assert ran.value["headers"]["x-count"] == {"value": "1:true"}
        assert ran.origin is not None and ran.origin["domainName"] == "abc.lambda-url.us-east-1.on.aws"
        with pytest.raises(FunctionError, match="not associated"):
            runtime.run(code, "cloudfront-js-2.0", viewer("h", "/"), stores=[], lookup=Store({}))
        with pytest.raises(FunctionError, match=r"cloudfront-js-2\.0"):
            runtime.run("var cf = require('cloudfront'); function handler(e) { return e.request; }",
                        "cloudfront-js-1.0", viewer("h", "/"))
    finally:
        runtime.close()
