"""The emulator's CloudFront Functions (moto has none): the lifecycle through tscloud's own client, and AWS's
rules on ETags, stages, sizes, associations and deleting an associated function."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cli.site_support import boto
from tests.conftest import MotoServer
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.session import ClientFactory
from tscloud_py.operations.context import LOCAL_CREDENTIALS
from tscloud_py.presets.ssr_app.steps import FORWARDED_HOST_CODE


def code_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]


def distribution_config(ref: str, function_arn: str, event: str = "viewer-request") -> dict[str, Any]:
    return {"CallerReference": ref, "Comment": ref, "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.us-east-1.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                                     "FunctionAssociations": {"Quantity": 1, "Items": [
                                         {"EventType": event, "FunctionARN": function_arn}]}}}


def test_lifecycle_through_the_client(moto_server: MotoServer) -> None:
    cf = CloudFront(ClientFactory(endpoint_url=moto_server.endpoint, credentials=LOCAL_CREDENTIALS))
    name = f"fn-{uuid.uuid4().hex[:8]}"
    assert cf.describe_function(name) is None
    etag = cf.create_function(name, FORWARDED_HOST_CODE, "forwards the host")
    summary, dev_etag = cf.describe_function(name, "DEVELOPMENT")  # type: ignore[misc]
    assert dev_etag == etag and summary["Status"] == "UNPUBLISHED"
    assert summary["FunctionConfig"] == {"Comment": "forwards the host", "Runtime": "cloudfront-js-2.0"}
    assert cf.describe_function(name, "LIVE") is None and cf.get_function_code(name, "LIVE") is None
    assert cf.get_function_code(name, "DEVELOPMENT") == FORWARDED_HOST_CODE

    arn = cf.publish_function(name, etag)
    assert arn.endswith(f":function/{name}") and cf.get_function_code(name, "LIVE") == FORWARDED_HOST_CODE
    new_etag = cf.update_function(name, b"function handler(e) { return e.request; }", "changed", etag)
    assert new_etag != etag
    assert cf.get_function_code(name, "LIVE") == FORWARDED_HOST_CODE  # LIVE changes only on publish
    cf.publish_function(name, new_etag)
    assert cf.get_function_code(name, "LIVE") == b"function handler(e) { return e.request; }"
    cf.delete_function(name, new_etag)
    assert cf.describe_function(name) is None


def test_aws_rules(moto_server: MotoServer) -> None:
    client = boto(moto_server.endpoint, "cloudfront")
    name = f"fn-{uuid.uuid4().hex[:8]}"
    config = {"Comment": "", "Runtime": "cloudfront-js-2.0"}
    etag = client.create_function(Name=name, FunctionConfig=config, FunctionCode=FORWARDED_HOST_CODE)["ETag"]
    with pytest.raises(ClientError) as dup:
        client.create_function(Name=name, FunctionConfig=config, FunctionCode=FORWARDED_HOST_CODE)
    assert code_of(dup) == ("FunctionAlreadyExists", 409)
    with pytest.raises(ClientError) as stale:
        client.update_function(Name=name, IfMatch="ESTALE", FunctionConfig=config, FunctionCode=b"x")
    assert code_of(stale) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as big:
        client.create_function(Name=name + "-big", FunctionConfig=config, FunctionCode=b"x" * (10 * 1024 + 1))
    assert code_of(big) == ("FunctionSizeLimitExceeded", 413)
    with pytest.raises(ClientError) as runtime:
        client.create_function(Name=name + "-rt", FunctionConfig={"Comment": "", "Runtime": "nodejs20.x"},
                               FunctionCode=b"function handler(e) { return e.request; }")
    assert code_of(runtime) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as absent:
        client.describe_function(Name=name + "-none")
    assert code_of(absent) == ("NoSuchFunctionExists", 404)

    arn = f"arn:aws:cloudfront::123456789012:function/{name}"
    # only a published function can be associated
    with pytest.raises(ClientError) as unpublished:
        client.create_distribution(DistributionConfig=distribution_config(uuid.uuid4().hex, arn))
    assert code_of(unpublished) == ("InvalidFunctionAssociation", 400)
    client.publish_function(Name=name, IfMatch=etag)
    with pytest.raises(ClientError) as origin_event:
        client.create_distribution(DistributionConfig=distribution_config(uuid.uuid4().hex, arn, "origin-request"))
    assert code_of(origin_event) == ("InvalidFunctionAssociation", 400)

    dist = client.create_distribution(DistributionConfig=distribution_config(uuid.uuid4().hex, arn))["Distribution"]
    echoed = client.get_distribution_config(Id=dist["Id"])["DistributionConfig"]["DefaultCacheBehavior"]
    assert echoed["FunctionAssociations"] == {"Quantity": 1, "Items": [
        {"FunctionARN": arn, "EventType": "viewer-request"}]}
    assert client.describe_function(Name=name, Stage="LIVE")["FunctionSummary"]["Status"] == "ASSOCIATED"
    listed = client.list_functions(Stage="LIVE")["FunctionList"]["Items"]
    assert name in {f["Name"] for f in listed}
    with pytest.raises(ClientError) as in_use:
        client.delete_function(Name=name, IfMatch=etag)
    assert code_of(in_use) == ("FunctionInUse", 409)

    dist_etag = client.get_distribution_config(Id=dist["Id"])["ETag"]
    client.delete_distribution(Id=dist["Id"], IfMatch=dist_etag)
    client.delete_function(Name=name, IfMatch=etag)
