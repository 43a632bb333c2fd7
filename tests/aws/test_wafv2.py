"""The WAFv2 client and the emulator's WAF answers (moto in-process, with the fidelity layer the session applies):
CloudFront takes only an existing CLOUDFRONT-scope web ACL in us-east-1 as WebACLId (else InvalidWebACLId, as AWS
answers), WAF refuses to delete a web ACL a distribution names, a stale LockToken is read again and the update
resent, and a create whose answer was lost adopts the ACL it made."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.session import ClientFactory
from tscloud_py.aws.wafv2 import Wafv2, WebAclSpec
from tscloud_py.errors import AwsError

SPEC = WebAclSpec("shop-dev-use1-waf", rate_limit=100, managed=("AWSManagedRulesCommonRuleSet",))
VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}


@pytest.fixture
def factory() -> Iterator[ClientFactory]:
    with mock_aws():
        yield ClientFactory(region="eu-west-1")


def config(ref: str, web_acl: str = "") -> dict[str, Any]:
    return {"CallerReference": ref, "Comment": ref, "Enabled": True, "WebACLId": web_acl,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.us-east-1.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}


def regional_acl(region: str) -> str:
    waf = boto3.client("wafv2", region_name=region)
    out = waf.create_web_acl(Name="regional", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
                             VisibilityConfig=VISIBILITY)
    return str(out["Summary"]["ARN"])


def test_web_acl_is_made_in_us_east_1_whatever_the_stage_region(factory: ClientFactory) -> None:
    acl = Wafv2(factory).create(SPEC, {"tscloud:app": "shop"})
    assert acl.arn.startswith("arn:aws:wafv2:us-east-1:") and ":global/webacl/shop-dev-use1-waf/" in acl.arn
    assert SPEC.differences(acl.config) == []
    assert Wafv2(factory).create(SPEC, {"tscloud:app": "shop"}).arn == acl.arn  # a resend adopts it


def test_cloudfront_refuses_a_regional_foreign_or_unknown_web_acl(factory: ClientFactory) -> None:
    cf = CloudFront(factory)
    ours = Wafv2(factory).create(SPEC, {})
    refused = [regional_acl("us-east-1"), regional_acl("eu-west-1"),
               ours.arn.replace(ours.id, "00000000-0000-0000-0000-000000000000"),
               ours.arn.replace("us-east-1", "eu-west-1")]
    for i, arn in enumerate(refused):
        with pytest.raises(AwsError) as caught:
            cf.create_distribution(config(f"bad-{i}", arn), {})
        assert caught.value.code == "InvalidWebACLId", arn
    info = cf.create_distribution(config("good", ours.arn), {})
    live, etag = cf.get_config_checked(info.id)
    with pytest.raises(AwsError) as caught:
        cf.update_config(info.id, {**live, "WebACLId": refused[0]}, etag)
    assert caught.value.code == "InvalidWebACLId"


def test_a_web_acl_a_distribution_names_is_not_deleted(factory: ClientFactory) -> None:
    cf, waf = CloudFront(factory), Wafv2(factory)
    acl = waf.create(SPEC, {})
    info = cf.create_distribution(config("named", acl.arn), {})
    with pytest.raises(AwsError) as caught:
        waf.delete(acl)
    assert caught.value.code == "WAFAssociatedItemException"
    live, etag = cf.get_config_checked(info.id)
    cf.update_config(info.id, {**live, "WebACLId": ""}, etag)
    waf.delete(acl)
    assert waf.find(SPEC.name) is None


def test_a_stale_lock_token_is_read_again_and_the_update_resent(factory: ClientFactory) -> None:
    waf = Wafv2(factory)
    acl = waf.create(SPEC, {})
    raw = boto3.client("wafv2", region_name="us-east-1")
    # someone else writes in between: our token is stale now
    raw.update_web_acl(Name=acl.name, Scope="CLOUDFRONT", Id=acl.id, LockToken=acl.lock_token,
                       DefaultAction={"Allow": {}}, Rules=[], VisibilityConfig=VISIBILITY)
    wanted = WebAclSpec(SPEC.name, mode="count", rate_limit=50)
    waf.update(acl, wanted)
    found = waf.find(SPEC.name)
    assert found is not None and wanted.differences(found.config) == []
    with pytest.raises(raw.exceptions.WAFOptimisticLockException):  # WAF itself still refuses the stale token
        raw.delete_web_acl(Name=acl.name, Scope="CLOUDFRONT", Id=acl.id, LockToken=acl.lock_token)
    waf.delete(acl)  # as the client does: with the stale token, then read again
    assert waf.find(SPEC.name) is None
