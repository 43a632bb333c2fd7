"""Creates whose first answer was lost: the client finds what AWS made and adopts it, and the emulator
answers a repeated client token as AWS does (moto in-process; the lost answer is simulated by making the
resource first, as the lost request would have)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tscloud_py.aws.apigateway import ApiGateway
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.lambda_ import Lambda
from tscloud_py.aws.session import ClientFactory
from tscloud_py.build.zipper import ZipEntry, build_zip
from tscloud_py.errors import AwsError

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def factory() -> Iterator[ClientFactory]:
    with mock_aws():
        yield ClientFactory(region="us-east-1")


def distribution_config(ref: str, comment: str) -> dict[str, Any]:
    return {"CallerReference": ref, "Comment": comment, "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.us-east-1.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}


def test_a_seen_caller_reference_adopts_that_distribution(factory: ClientFactory) -> None:
    cf = CloudFront(factory)
    other = cf.create_distribution(distribution_config("other-ref", "shop-dev-site"), {})
    first = cf.create_distribution(distribution_config("shop-dev-ref", "shop-dev-site"), {"tscloud:app": "shop"})
    again = cf.create_distribution(distribution_config("shop-dev-ref", "shop-dev-site"), {"tscloud:app": "shop"})
    assert again.id == first.id != other.id
    assert len(list(cf.iter_distributions())) == 2


def test_oac_and_function_creates_adopt_the_existing_one(factory: ClientFactory) -> None:
    from tscloud_py.emulator.fidelity import patch_moto_fidelity

    patch_moto_fidelity()  # OAC names unique, as in AWS
    cf = CloudFront(factory)
    oac = cf.create_oac("shop-dev-oac")
    assert cf.create_oac("shop-dev-oac") == oac
    raw = boto3.client("cloudfront", region_name="us-east-1")
    with pytest.raises(raw.exceptions.OriginAccessControlAlreadyExists):
        raw.create_origin_access_control(OriginAccessControlConfig={
            "Name": "shop-dev-oac", "SigningProtocol": "sigv4", "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3"})
    etag = cf.create_function("shop-dev-fn", b"function handler(e) { return e.request }", "c")
    assert cf.create_function("shop-dev-fn", b"function handler(e) { return e.request }", "c") == etag


def role_arn() -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    return str(iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"])


def test_create_function_adopts_the_one_by_its_name(factory: ClientFactory) -> None:
    lam = Lambda(factory)
    args: dict[str, Any] = {"role_arn": role_arn(), "runtime": "nodejs22.x", "handler": "index.handler",
                            "zip_bytes": build_zip([ZipEntry("index.mjs", b"export const handler = 1")]),
                            "memory": 128, "timeout": 3, "architecture": "arm64", "environment": {}, "layers": [],
                            "tags": {"tscloud:app": "shop"}}
    first = lam.create_function("shop-dev-server", **args)
    again = lam.create_function("shop-dev-server", **args)
    assert again["FunctionArn"] == first["FunctionArn"]


def test_event_source_mapping_adopts_the_pair(factory: ClientFactory) -> None:
    lam = Lambda(factory)
    lam.create_function("shop-dev-jobs", role_arn=role_arn(), runtime="nodejs22.x", handler="index.handler",
                        zip_bytes=build_zip([ZipEntry("index.mjs", b"x")]), memory=128, timeout=3,
                        architecture="arm64", environment={}, layers=[], tags={})
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="shop-dev-jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    first = lam.create_event_source_mapping("shop-dev-jobs", arn, batch_size=10, window_seconds=0)
    again = lam.create_event_source_mapping("shop-dev-jobs", arn, batch_size=10, window_seconds=0)
    assert again["UUID"] == first["UUID"] and len(lam.event_source_mappings("shop-dev-jobs")) == 1


def test_rest_api_is_adopted_only_with_our_tags(factory: ClientFactory) -> None:
    api = ApiGateway(factory)
    ours = {"tscloud:app": "shop", "tscloud:stage": "dev"}
    theirs = boto3.client("apigateway", region_name="us-east-1").create_rest_api(name="shop-dev-api")["id"]
    assert api.create_rest_api("shop-dev-api", ours)["id"] != theirs  # same name, not ours: a new one
    assert api.find_rest_api("shop-dev-api") is not None


def test_a_repeated_schedule_client_token_answers_the_schedule(factory: ClientFactory) -> None:
    """AWS: CreateSchedule is idempotent per ClientToken; moto ignored the token (emulator.fidelity.scheduler)."""
    from tscloud_py.emulator.fidelity import patch_moto_fidelity

    patch_moto_fidelity()
    sched = boto3.client("scheduler", region_name="us-east-1")
    kwargs: dict[str, Any] = {"Name": "nightly", "ScheduleExpression": "rate(1 day)",
                              "FlexibleTimeWindow": {"Mode": "OFF"},
                              "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q",
                                         "RoleArn": "arn:aws:iam::123456789012:role/r"}}
    first = sched.create_schedule(ClientToken="tok-1", **kwargs)["ScheduleArn"]
    assert sched.create_schedule(ClientToken="tok-1", **kwargs)["ScheduleArn"] == first
    with pytest.raises(sched.exceptions.ConflictException):
        sched.create_schedule(ClientToken="tok-2", **kwargs)


def test_an_exists_error_without_the_resource_is_raised(factory: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    cf = CloudFront(factory)
    cf.create_distribution(distribution_config("ref-a", "shop-dev-site"), {})
    monkeypatch.setattr(cf, "find_by_caller_reference", lambda config: None)
    with pytest.raises(AwsError) as err:
        cf.create_distribution(distribution_config("ref-a", "shop-dev-site"), {})
    assert err.value.code == "DistributionAlreadyExists"
