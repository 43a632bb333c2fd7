"""aws/lambda_.py against moto: layers (skip when unchanged), functions with Layers, URLs, permissions, ESMs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tscloud_py.aws.lambda_ import Lambda, check_layers, layer_name_of, newest_node_runtime
from tscloud_py.aws.session import ClientFactory
from tscloud_py.build.zipper import ZipEntry, build_zip, code_sha256
from tscloud_py.errors import UsageError

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def lam() -> Iterator[Lambda]:
    with mock_aws():
        yield Lambda(ClientFactory(region="us-east-1"))


def role_arn() -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    return str(iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"])


def code(text: str = "export const handler = async () => ({})") -> bytes:
    return build_zip([ZipEntry("index.mjs", text.encode())])


def test_newest_node_runtime() -> None:
    runtime = newest_node_runtime()
    assert runtime.startswith("nodejs") and runtime.endswith(".x")
    assert int(runtime[6:-2]) >= 20


def test_layer_publish_skips_unchanged(lam: Lambda) -> None:
    data = build_zip([ZipEntry("nodejs/node_modules/x/index.js", b"module.exports = 1")])
    first, published = lam.publish_layer_if_changed("deps", data, runtimes=["nodejs22.x"], architectures=["arm64"])
    assert published and first["Version"] == 1 and first["Content"]["CodeSha256"] == code_sha256(data)
    again, published = lam.publish_layer_if_changed("deps", data)
    assert not published and again["Version"] == 1 and again["LayerVersionArn"] == first["LayerVersionArn"]
    other = build_zip([ZipEntry("nodejs/node_modules/x/index.js", b"module.exports = 2")])
    second, published = lam.publish_layer_if_changed("deps", other)
    assert published and second["Version"] == 2
    assert [v["Version"] for v in lam.layer_versions("deps")] == [2, 1]
    assert lam.layer_versions("missing") == [] and lam.latest_layer_version("missing") is None


def test_too_big_for_inline_upload(lam: Lambda, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tscloud_py.aws.lambda_.DIRECT_UPLOAD_LIMIT", 10)
    with pytest.raises(UsageError, match="50 MB"):
        lam.publish_layer_if_changed("big", code())


def test_layers_limit_and_names() -> None:
    arns = [f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1" for i in range(6)]
    assert check_layers(arns[:5]) == arns[:5]
    with pytest.raises(UsageError, match="at most 5"):
        check_layers(arns)
    assert layer_name_of(arns[0]) == "arn:aws:lambda:us-east-1:123456789012:layer:l0"


def test_function_lifecycle_with_layers(lam: Lambda) -> None:
    layer, _ = lam.publish_layer_if_changed("deps", code("x"))
    created = lam.create_function(
        "shop-dev-server", role_arn=role_arn(), runtime="nodejs22.x", handler="index.handler", zip_bytes=code(),
        memory=2048, timeout=60, architecture="arm64", environment={"A": "1"}, layers=[layer["LayerVersionArn"]],
        tags={"tscloud:app": "shop"}, log_group="/aws/lambda/shop-dev-server")
    assert created["CodeSha256"] == code_sha256(code())
    conf = lam.wait_ready("shop-dev-server")
    assert conf["MemorySize"] == 2048 and conf["Timeout"] == 60
    assert [x["Arn"] for x in conf["Layers"]] == [layer["LayerVersionArn"]]
    with pytest.raises(UsageError):
        lam.set_layers("shop-dev-server", [layer["LayerVersionArn"]] * 6)
    lam.update_function_configuration("shop-dev-server", memory=1024, environment={"B": "2"}, layers=[])
    fn = lam.get_function("shop-dev-server")
    assert fn is not None and fn["Configuration"]["MemorySize"] == 1024
    assert fn["Configuration"]["Environment"]["Variables"] == {"B": "2"}
    updated = lam.update_function_code("shop-dev-server", code("changed"))
    assert updated["CodeSha256"] == code_sha256(code("changed"))
    lam.delete_function("shop-dev-server")
    lam.delete_function("shop-dev-server")  # absent: fine
    assert lam.get_function("shop-dev-server") is None


def test_url_permissions_and_event_sources(lam: Lambda) -> None:
    lam.create_function("fn", role_arn=role_arn(), runtime="nodejs22.x", handler="index.handler", zip_bytes=code(),
                        memory=128, timeout=3, architecture="x86_64", environment={}, layers=[], tags={})
    assert lam.get_function_url_config("fn") is None
    url = lam.create_function_url_config("fn", auth_type="AWS_IAM", invoke_mode="RESPONSE_STREAM")
    assert url["FunctionUrl"].startswith("https://")
    assert (lam.get_function_url_config("fn") or {})["AuthType"] == "AWS_IAM"
    lam.add_permission("fn", statement_id="cloudfront", action="lambda:InvokeFunctionUrl",
                       principal="cloudfront.amazonaws.com",
                       source_arn="arn:aws:cloudfront::123456789012:distribution/E1", function_url_auth_type="AWS_IAM")
    assert [s["Sid"] for s in lam.policy_statements("fn")] == ["cloudfront"]
    lam.remove_permission("fn", "cloudfront")
    lam.remove_permission("fn", "cloudfront")
    assert lam.policy_statements("fn") == []
    lam.delete_function_url_config("fn")
    assert lam.get_function_url_config("fn") is None

    queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="jobs")["QueueUrl"]
    arn = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    m = lam.create_event_source_mapping("fn", arn, batch_size=10, window_seconds=5)
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert [x["UUID"] for x in lam.event_source_mappings("fn")] == [m["UUID"]]
    lam.update_event_source_mapping(m["UUID"], batch_size=5, window_seconds=0)
    lam.delete_event_source_mapping(m["UUID"])


