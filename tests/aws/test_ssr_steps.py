"""ssr-app steps where moto is laxer than AWS: the exact requests are pinned.

- moto never updates a Function URL's InvokeMode, so the UpdateFunctionUrlConfig request is recorded;
- moto has no CloudFront Functions, so those calls run against botocore's Stubber;
- moto drops OriginAccessControlId on custom origins, so the distribution diff is tested as data.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.model import config_changes, merge
from tscloud_py.aws.iam import Iam
from tscloud_py.aws.lambda_ import Lambda
from tscloud_py.aws.session import ClientFactory
from tscloud_py.build.nitro import PublicEntry
from tscloud_py.build.zipper import ZipEntry, build_zip, code_sha256
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import StepContext
from tscloud_py.presets.naming import Names
from tscloud_py.presets.ssr_app.distribution import ServerOrigin, ssr_owned
from tscloud_py.presets.ssr_app.steps import (
    FORWARDED_HOST_CODE,
    FunctionStep,
    FunctionUrlStep,
    ServerRoleStep,
)
from tscloud_py.presets.steps.edge_function import EdgeFunctionStep

FN_ARN = "arn:aws:cloudfront::123456789012:function/shop-dev-forwarded-host"
NAMES = Names("shop", "dev", "us-east-1")
ROLE_ARN = Ref("role", "role_arn")


@pytest.fixture
def factory() -> Iterator[ClientFactory]:
    with mock_aws():
        # moto's backends are the process's: a function of this name another module left (a moto server
        # it started outlives mock_aws's reset) would be adopted here, with its own configuration.
        lam = boto3.client("lambda", region_name="us-east-1")
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            lam.delete_function(FunctionName="shop-dev-server")
        yield ClientFactory(region="us-east-1")


def record(factory: ClientFactory, event: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    for once in (False, True):  # creates go out on the send-once client
        factory.client(event.split(".")[0], once=once).meta.events.register(f"provide-client-params.{event}", hook)
    return seen


def ctx(**outputs: dict[str, Any]) -> StepContext:
    return StepContext(outputs=dict(outputs))


def make_function(factory: ClientFactory) -> FunctionStep:
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": []}
    arn = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    data = build_zip([ZipEntry("index.mjs", b"export const handler = async () => ({})")])
    step = FunctionStep("function", Lambda(factory), "shop-dev-server", lambda: (data, code_sha256(data)), NAMES,
                        runtime="nodejs22.x", handler="index.handler", memory=2048, timeout=60,
                        architecture="arm64", environment={"A": "1"}, layers=[], role_arn=ROLE_ARN,
                        needs=["role"])
    c = ctx(role={"role_arn": arn})
    assert step.diff(c, None)
    step.apply(c, None)
    assert step.diff(c, step.read(c)) == []
    return step


def test_function_url_requests_are_pinned(factory: ClientFactory) -> None:
    make_function(factory)
    created = record(factory, "lambda.CreateFunctionUrlConfig")
    updated = record(factory, "lambda.UpdateFunctionUrlConfig")
    streaming = FunctionUrlStep("function-url", Lambda(factory), "shop-dev-server", streaming=True)
    out = streaming.apply(ctx(), None)
    assert created == [{"FunctionName": "shop-dev-server", "AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"}]
    assert out["url_domain"].endswith(".lambda-url.us-east-1.on.aws")
    assert streaming.diff(ctx(), streaming.read(ctx())) == []

    buffered = FunctionUrlStep("function-url", Lambda(factory), "shop-dev-server", streaming=False)
    observed = buffered.read(ctx())
    assert [c.field for c in buffered.diff(ctx(), observed)] == ["InvokeMode"]
    buffered.apply(ctx(), observed)
    assert updated == [{"FunctionName": "shop-dev-server", "AuthType": "AWS_IAM", "InvokeMode": "BUFFERED"}]


def test_function_code_and_config_updates(factory: ClientFactory) -> None:
    step = make_function(factory)
    role_arn = step.lam.get_function("shop-dev-server")["Configuration"]["Role"]  # type: ignore[index]
    code_calls = record(factory, "lambda.UpdateFunctionCode")
    config_calls = record(factory, "lambda.UpdateFunctionConfiguration")
    c = ctx(role={"role_arn": role_arn})
    step.memory = 1024
    assert [ch.field for ch in step.diff(c, step.read(c))] == ["MemorySize"]
    step.apply(c, step.read(c))
    assert code_calls == [] and config_calls[0]["MemorySize"] == 1024 and config_calls[0]["Layers"] == []
    new = build_zip([ZipEntry("index.mjs", b"export const handler = async () => 2")])
    step._code = lambda: (new, code_sha256(new))
    assert [ch.field for ch in step.diff(c, step.read(c))] == ["code"]
    step.apply(c, step.read(c))
    assert len(code_calls) == 1 and code_calls[0]["Architectures"] == ["arm64"] and len(config_calls) == 1
    assert step.diff(c, step.read(c)) == []


def test_role_grants_logs_and_config_only(factory: ClientFactory) -> None:
    step = ServerRoleStep("role", Iam(factory), "shop-dev-server",
                          [(["bedrock:InvokeModel"], ["arn:aws:bedrock:us-east-1::foundation-model/m"])], NAMES,
                          needs=["log-group"], log_group_arn=Ref("log-group", "log_group_arn"))
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/shop-dev-server"
    c = ctx(**{"log-group": {"log_group_arn": arn}})
    step.apply(c, None)
    observed = step.read(c)
    assert step.diff(c, observed) == []
    policy = observed["policies"]["tscloud-server"]  # type: ignore[index]
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert "*" not in resources and "*" not in actions
    assert policy["Statement"][0]["Resource"] == [f"{arn}:*"]
    assert observed["role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {  # type: ignore[index]
        "Service": "lambda.amazonaws.com"}


def stubbed_cloudfront() -> tuple[CloudFront, Stubber]:
    factory = ClientFactory(region="us-east-1")
    cloudfront = CloudFront(factory)
    client = cloudfront._client
    # One stubbed client answers for both: the retrying one and the send-once one creates use.
    factory.client = lambda service, region=None, **_: client  # type: ignore[method-assign]
    stubber = Stubber(client)
    return cloudfront, stubber


def summary(stage: str = "DEVELOPMENT") -> dict[str, Any]:
    return {"Name": "shop-dev-forwarded-host", "Status": "UNPUBLISHED",
            "FunctionConfig": {"Comment": "c", "Runtime": "cloudfront-js-2.0"},
            "FunctionMetadata": {"FunctionARN": FN_ARN, "Stage": stage,
                                 "LastModifiedTime": "2026-01-01T00:00:00Z"}}


def forwarded_host_step(cloudfront: CloudFront) -> EdgeFunctionStep:
    """ssr-app's function step, as its preset builds it."""
    return EdgeFunctionStep("edge-function", cloudfront, "shop-dev-forwarded-host", code=FORWARDED_HOST_CODE,
                            comment="tscloud: viewer Host -> x-forwarded-host", what="x-forwarded-host")


def test_edge_function_create_and_publish() -> None:
    cloudfront, stubber = stubbed_cloudfront()
    stubber.add_client_error("describe_function", "NoSuchFunctionExists", http_status_code=404,
                             expected_params={"Name": "shop-dev-forwarded-host", "Stage": "DEVELOPMENT"})
    stubber.add_response("create_function", {"FunctionSummary": summary(), "ETag": "E1"}, {
        "Name": "shop-dev-forwarded-host", "FunctionCode": FORWARDED_HOST_CODE,
        "FunctionConfig": {"Comment": "tscloud: viewer Host -> x-forwarded-host", "Runtime": "cloudfront-js-2.0"}})
    stubber.add_response("publish_function", {"FunctionSummary": summary("LIVE")},
                         {"Name": "shop-dev-forwarded-host", "IfMatch": "E1"})
    step = forwarded_host_step(cloudfront)
    with stubber:
        observed = step.read(ctx())
        assert observed is None and step.diff(ctx(), observed)
        assert step.apply(ctx(), observed) == {"function_arn": FN_ARN}
    stubber.assert_no_pending_responses()


def test_edge_function_unchanged_and_updated() -> None:
    cloudfront, stubber = stubbed_cloudfront()
    step = forwarded_host_step(cloudfront)
    for live_code in (FORWARDED_HOST_CODE, b"function handler(e) { return e.request; }"):
        stubber.add_response("describe_function", {"FunctionSummary": summary(), "ETag": "E2"},
                             {"Name": "shop-dev-forwarded-host", "Stage": "DEVELOPMENT"})
        stubber.add_response("get_function", {"FunctionCode": live_code, "ETag": "E3", "ContentType": "application/javascript"},
                             {"Name": "shop-dev-forwarded-host", "Stage": "LIVE"})
    stubber.add_response("update_function", {"FunctionSummary": summary(), "ETag": "E4"}, {
        "Name": "shop-dev-forwarded-host", "IfMatch": "E2", "FunctionCode": FORWARDED_HOST_CODE,
        "FunctionConfig": {"Comment": "tscloud: viewer Host -> x-forwarded-host", "Runtime": "cloudfront-js-2.0"}})
    stubber.add_response("publish_function", {"FunctionSummary": summary("LIVE")},
                         {"Name": "shop-dev-forwarded-host", "IfMatch": "E4"})
    with stubber:
        same = step.read(ctx())
        assert step.diff(ctx(), same) == [] and step.outputs(ctx(), same) == {"function_arn": FN_ARN}
        other = step.read(ctx())
        assert [c.field for c in step.diff(ctx(), other)] == ["code"]
        assert step.apply(ctx(), other) == {"function_arn": FN_ARN}
    stubber.assert_no_pending_responses()


def test_edge_function_errors_are_not_swallowed() -> None:
    # a bare 404 (no NoSuchFunctionExists code) is not "absent": the endpoint answered something else
    cloudfront, stubber = stubbed_cloudfront()
    stubber.add_client_error("describe_function", "404", "Not Found", http_status_code=404)
    strict = forwarded_host_step(cloudfront)
    with stubber, pytest.raises(Exception, match="404"):
        strict.read(ctx())


def dist_config(current: dict[str, Any] | None = None, function_arn: str | None = FN_ARN) -> dict[str, Any]:
    return merge(current or {}, ssr_owned(
        comment="tscloud shop-dev distribution",
        server=ServerOrigin("abc.lambda-url.us-east-1.on.aws", oac_id="OAC-L", read_timeout=300),
        assets_domain="b.s3.us-east-1.amazonaws.com", assets_oac_id="OAC-S",
        entries=[PublicEntry("assets", True), PublicEntry("favicon.ico", False)], function_arn=function_arn,
        price_class="PriceClass_100"))


def config_diff(wanted: dict[str, Any], echoed: dict[str, Any]) -> list[Any]:
    return config_changes(echoed, wanted)


def test_distribution_config_shape() -> None:
    config = dist_config()
    server = config["Origins"]["Items"][0]
    assert server["OriginAccessControlId"] == "OAC-L"
    assert server["CustomOriginConfig"]["OriginReadTimeout"] == 60  # capped at the default quota
    assert config["DefaultCacheBehavior"]["FunctionAssociations"] == {
        "Quantity": 1, "Items": [{"EventType": "viewer-request", "FunctionARN": FN_ARN}]}
    assert [b["PathPattern"] for b in config["CacheBehaviors"]["Items"]] == ["/assets/*", "/favicon.ico"]
    assert dist_config(function_arn=None)["DefaultCacheBehavior"]["FunctionAssociations"] == {"Quantity": 0}


def test_distribution_keeps_foreign_origins_and_behaviors() -> None:
    live = dist_config()
    live["Origins"]["Items"].append({"Id": "api", "DomainName": "alb.example.com"})
    live["Origins"]["Quantity"] = 3
    live["CacheBehaviors"]["Items"].insert(0, {"PathPattern": "/api/*", "TargetOriginId": "api"})
    wanted = dist_config(current=live)
    assert [o["Id"] for o in wanted["Origins"]["Items"]] == ["server", "assets", "api"]
    # theirs stays where it stands: CloudFront evaluates behaviors in order
    assert [b["PathPattern"] for b in wanted["CacheBehaviors"]["Items"]] == ["/api/*", "/assets/*", "/favicon.ico"]
    merged = dist_config(current={**live, "CallerReference": "x", "Logging": {"Enabled": False}})
    assert merged["CallerReference"] == "x" and merged["Logging"] == {"Enabled": False}


def test_distribution_diff_sees_the_oac_key() -> None:
    wanted = dist_config()
    echoed = json.loads(json.dumps(wanted))
    assert config_diff(wanted, echoed) == []
    del echoed["Origins"]["Items"][0]["OriginAccessControlId"]  # AWS always returns it: a missing one differs
    assert [c.path for c in config_diff(wanted, echoed)] == ["Origins.server.OriginAccessControlId"]
    echoed["Origins"]["Items"][0]["OriginAccessControlId"] = ""  # what AWS returns when it is unset
    assert [c.path for c in config_diff(wanted, echoed)] == ["Origins.server.OriginAccessControlId"]
    echoed["Origins"]["Items"][0]["OriginAccessControlId"] = "OAC-L"
    echoed["CacheBehaviors"]["Items"].pop()
    echoed["CacheBehaviors"]["Quantity"] = 1
    assert config_diff(wanted, echoed)


def test_rest_api_integration_request_is_pinned(factory: ClientFactory) -> None:
    from tscloud_py.aws.apigateway import ApiGateway
    from tscloud_py.presets.ssr_app.rest_api import RestApiStep

    sent = record(factory, "apigateway.PutIntegration")
    fn_arn = "arn:aws:lambda:us-east-1:123456789012:function:shop-dev-server"
    c = ctx(function={"function_arn": fn_arn})
    step = RestApiStep("api", ApiGateway(factory), "shop-dev-server", NAMES, streaming=True,
                       function_arn=Ref("function", "function_arn"), needs=["function"])
    out = step.apply(c, step.read(c))
    streaming_uri = ("arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/"
                     f"{fn_arn}/response-streaming-invocations")
    assert len(sent) == 2
    for params in sent:
        assert params["type"] == "AWS_PROXY" and params["integrationHttpMethod"] == "POST"
        assert params["uri"] == streaming_uri and params["responseTransferMode"] == "STREAM"
    assert out["origin_path"] == "/live" and out["api_domain"].endswith(".execute-api.us-east-1.amazonaws.com")
    assert step.diff(c, step.read(c)) == []
    # AWS reports responseTransferMode (and fidelity.apigateway makes moto do so): a BUFFERED one is drift
    observed = step.read(c)
    assert observed is not None
    observed["integrations"]["/"]["responseTransferMode"] = "BUFFERED"
    assert [ch.field for ch in step.diff(c, observed)] == ["integration ANY /"]

    buffered = RestApiStep("api", ApiGateway(factory), "shop-dev-server", NAMES, streaming=False,
                           function_arn=Ref("function", "function_arn"), needs=["function"])
    assert len(buffered.diff(c, buffered.read(c))) == 2
    buffered.apply(c, buffered.read(c))
    assert [p["responseTransferMode"] for p in sent[2:]] == ["BUFFERED", "BUFFERED"]
    assert sent[2]["uri"].endswith("/2015-03-31/functions/" + fn_arn + "/invocations")


def test_large_code_is_staged_in_s3(factory: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from tscloud_py.aws.s3 import S3
    from tscloud_py.presets.ssr_app.steps import CodeStaging

    monkeypatch.setattr("tscloud_py.presets.ssr_app.steps.DIRECT_UPLOAD_LIMIT", 10)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="code")
    sent = record(factory, "lambda.CreateFunction")
    iam = boto3.client("iam", region_name="us-east-1")
    arn = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    data = build_zip([ZipEntry("index.mjs", b"export const handler = async () => ({})")])
    step = FunctionStep("function", Lambda(factory), "big", lambda: (data, code_sha256(data)), NAMES,
                        runtime="nodejs22.x", handler="index.handler", memory=128, timeout=3, architecture="arm64",
                        environment={}, layers=[], role_arn=ROLE_ARN, needs=["role", "bucket"],
                        staging=CodeStaging(S3(factory), Ref("bucket", "bucket")))
    c = ctx(role={"role_arn": arn}, bucket={"bucket": "code"})
    step.apply(c, None)
    key = f"_tscloud/code/server/{hashlib.sha256(data).hexdigest()}.zip"
    assert sent[0]["Code"] == {"S3Bucket": "code", "S3Key": key}
    assert s3.get_object(Bucket="code", Key=key)["Body"].read() == data
    assert step.diff(c, step.read(c)) == []

    no_stage = FunctionStep("function", Lambda(factory), "big2", lambda: (data, code_sha256(data)), NAMES,
                            runtime="nodejs22.x", handler="index.handler", memory=128, timeout=3,
                            architecture="arm64", environment={}, layers=[], role_arn=ROLE_ARN, needs=["role"])
    from tscloud_py.errors import UsageError

    with pytest.raises(UsageError, match="50 MB inline"):
        no_stage.apply(c, None)
