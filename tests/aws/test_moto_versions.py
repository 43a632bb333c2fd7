"""What the supported moto versions (5.2.1 to 5.2.5) answer differently for CloudFront, each held to AWS's
answer by tscloud_py.emulator.fidelity or the emulator's CloudFront Functions, so the suite and the emulator
behave the same on every version the pin allows."""

from __future__ import annotations

import uuid
from typing import Any

from tests.cli.site_support import boto
from tests.conftest import MotoServer
from tscloud_py.presets.ssr_app.steps import FORWARDED_HOST_CODE

ACCOUNT = "123456789012"


def _create_distribution(endpoint: str, comment: str) -> dict[str, Any]:
    config = {"CallerReference": uuid.uuid4().hex, "Comment": comment, "Enabled": True,
              "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.us-east-1.amazonaws.com",
                                                    "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
              "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https",
                                       "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
    dist: dict[str, Any] = boto(endpoint, "cloudfront").create_distribution(DistributionConfig=config)["Distribution"]
    return dist


def test_distribution_arn_has_an_empty_region_field(moto_server: MotoServer) -> None:
    # moto 5.2.1 answers arn:aws:cloudfront:ACCOUNT:distribution/ID (one colon short)
    dist = _create_distribution(moto_server.endpoint, f"arn-{uuid.uuid4().hex[:8]}")
    assert dist["ARN"] == f"arn:aws:cloudfront::{ACCOUNT}:distribution/{dist['Id']}"
    cf = boto(moto_server.endpoint, "cloudfront")
    assert cf.get_distribution(Id=dist["Id"])["Distribution"]["ARN"] == dist["ARN"]
    cf.tag_resource(Resource=dist["ARN"], Tags={"Items": [{"Key": "app", "Value": "arn"}]})
    assert cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"] == [{"Key": "app", "Value": "arn"}]


def test_list_distributions_summaries_carry_the_config(moto_server: MotoServer) -> None:
    # moto 5.2.1 lists Id, ARN, DomainName and Status only; AWS (and moto 5.2.5) add the config's fields
    comment = f"summary-{uuid.uuid4().hex[:8]}"
    dist = _create_distribution(moto_server.endpoint, comment)
    pages = boto(moto_server.endpoint, "cloudfront").get_paginator("list_distributions").paginate()
    summary = next(item for page in pages for item in page["DistributionList"].get("Items", [])
                   if item["Id"] == dist["Id"])
    assert summary["Comment"] == comment and summary["Enabled"] is True
    assert [o["Id"] for o in summary["Origins"]["Items"]] == ["o"]
    assert summary["DefaultCacheBehavior"]["TargetOriginId"] == "o"
    assert summary["PriceClass"] == "PriceClass_All"


def test_every_origin_carries_its_origin_access_control_id(moto_server: MotoServer) -> None:
    # AWS returns OriginAccessControlId on every origin, empty when unset; moto drops it (fidelity.cloudfront)
    cf = boto(moto_server.endpoint, "cloudfront")
    config = {"CallerReference": uuid.uuid4().hex, "Comment": f"oac-{uuid.uuid4().hex[:8]}", "Enabled": True,
              "Origins": {"Quantity": 2, "Items": [
                  {"Id": "app", "DomainName": "app.example.com",
                   "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}},
                  {"Id": "s3", "DomainName": "b.s3.us-east-1.amazonaws.com", "OriginAccessControlId": "OAC1",
                   "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
              "DefaultCacheBehavior": {"TargetOriginId": "app", "ViewerProtocolPolicy": "redirect-to-https",
                                       "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
    dist_id = cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    origins = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["Origins"]["Items"]
    assert {o["Id"]: o["OriginAccessControlId"] for o in origins} == {"app": "", "s3": "OAC1"}


def test_publish_function_is_routed_and_goes_live(moto_server: MotoServer) -> None:
    # moto 5.2.5 routes CreateFunction and DescribeFunction itself but answers PublishFunction with a bare
    # 404; moto 5.2.1 routes none of them
    cf = boto(moto_server.endpoint, "cloudfront")
    name = f"fn-{uuid.uuid4().hex[:8]}"
    etag = cf.create_function(Name=name, FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                              FunctionCode=FORWARDED_HOST_CODE)["ETag"]
    published = cf.publish_function(Name=name, IfMatch=etag)["FunctionSummary"]
    assert published["FunctionMetadata"]["Stage"] == "LIVE"
    assert published["FunctionMetadata"]["FunctionARN"] == f"arn:aws:cloudfront::{ACCOUNT}:function/{name}"
    live = cf.describe_function(Name=name, Stage="LIVE")["FunctionSummary"]
    assert live["Status"] == "UNASSOCIATED"


def test_a_finished_invalidation_is_completed_as_aws_spells_it(moto_server: MotoServer) -> None:
    # moto says COMPLETED; AWS says Completed (fidelity.cloudfront)
    dist = _create_distribution(moto_server.endpoint, f"inv-{uuid.uuid4().hex[:8]}")
    cf = boto(moto_server.endpoint, "cloudfront")
    created = cf.create_invalidation(DistributionId=dist["Id"], InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": uuid.uuid4().hex})["Invalidation"]
    assert cf.get_invalidation(DistributionId=dist["Id"], Id=created["Id"])["Invalidation"]["Status"] == "Completed"


def test_an_integration_keeps_its_response_transfer_mode(moto_server: MotoServer) -> None:
    # moto drops responseTransferMode; AWS keeps it, BUFFERED unless asked (fidelity.apigateway)
    api = boto(moto_server.endpoint, "apigateway")
    api_id = api.create_rest_api(name=f"mode-{uuid.uuid4().hex[:8]}")["id"]
    root = api.get_resources(restApiId=api_id)["items"][0]["id"]
    uri = (f"arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-east-1:{ACCOUNT}"
           ":function:f/response-streaming-invocations")
    modes = {}
    for method, mode in (("GET", "STREAM"), ("POST", None)):
        api.put_method(restApiId=api_id, resourceId=root, httpMethod=method, authorizationType="NONE")
        extra = {"responseTransferMode": mode} if mode else {}
        put = api.put_integration(restApiId=api_id, resourceId=root, httpMethod=method, type="AWS_PROXY",
                                  integrationHttpMethod="POST", uri=uri, **extra)
        got = api.get_integration(restApiId=api_id, resourceId=root, httpMethod=method)
        modes[method] = (put["responseTransferMode"], got["responseTransferMode"])
    assert modes == {"GET": ("STREAM", "STREAM"), "POST": ("BUFFERED", "BUFFERED")}
