"""The emulator's CloudFront VPC origins (moto has none): the lifecycle through tscloud's own client, and AWS's
rules: an internet-facing or missing load balancer refused, one VPC origin per endpoint, ETags, Deploying then
Deployed, VpcOriginConfig kept in a distribution and checked, and a VPC origin in use not deleted."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.cli.site_support import boto
from tests.conftest import MotoServer
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.model import VpcOrigin
from tscloud_py.aws.session import ClientFactory
from tscloud_py.operations.context import LOCAL_CREDENTIALS


def code_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]


def load_balancer(endpoint: str, scheme: str) -> dict[str, Any]:
    ec2, elb = boto(endpoint, "ec2"), boto(endpoint, "elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    lb: dict[str, Any] = elb.create_load_balancer(Name=f"lb-{uuid.uuid4().hex[:8]}", Subnets=subnets,
                                                  Scheme=scheme, Type="application")["LoadBalancers"][0]
    return lb


def endpoint_config(arn: str, policy: str = "http-only") -> dict[str, Any]:
    return {"Name": f"vo-{uuid.uuid4().hex[:8]}", "Arn": arn, "HTTPPort": 80, "HTTPSPort": 443,
            "OriginProtocolPolicy": policy}


def distribution(ref: str, origin: dict[str, Any]) -> dict[str, Any]:
    return {"CallerReference": ref, "Comment": ref, "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {"TargetOriginId": origin["Id"], "ViewerProtocolPolicy": "allow-all",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}


def test_lifecycle_through_the_client(moto_server: MotoServer) -> None:
    cf = CloudFront(ClientFactory(endpoint_url=moto_server.endpoint, credentials=LOCAL_CREDENTIALS))
    lb = load_balancer(moto_server.endpoint, "internal")
    arn = lb["LoadBalancerArn"]
    assert cf.find_vpc_origin(arn) is None
    config = endpoint_config(arn)
    origin_id = cf.create_vpc_origin(config, {"tscloud:app": "vo"})
    assert origin_id.startswith("vo_")
    # a resend after a lost answer adopts the one AWS made: still one per endpoint
    assert cf.create_vpc_origin(config, {"tscloud:app": "vo"}) == origin_id
    assert cf.find_vpc_origin(arn)["Id"] == origin_id  # type: ignore[index]
    cf.wait_vpc_origin_deployed(origin_id)
    found, etag = cf.vpc_origin(origin_id)  # type: ignore[misc]
    assert found["Status"] == "Deployed"
    assert found["Arn"].endswith(f":vpcorigin/{origin_id}") and found["Arn"].startswith("arn:aws:cloudfront::")
    assert found["VpcOriginEndpointConfig"]["Arn"] == arn
    assert found["VpcOriginEndpointConfig"]["OriginSslProtocols"] == {"Quantity": 1, "Items": ["TLSv1.2"]}
    assert cf.tags(found["Arn"]) == {"tscloud:app": "vo"}

    cf.update_vpc_origin(origin_id, {**config, "OriginProtocolPolicy": "https-only"}, etag)
    changed, new_etag = cf.vpc_origin(origin_id)  # type: ignore[misc]
    assert new_etag != etag and changed["VpcOriginEndpointConfig"]["OriginProtocolPolicy"] == "https-only"
    cf.delete_vpc_origin(origin_id)
    assert cf.vpc_origin(origin_id) is None and cf.find_vpc_origin(arn) is None
    cf.delete_vpc_origin(origin_id)  # gone already: nothing to do


def test_aws_refusals(moto_server: MotoServer) -> None:
    client = boto(moto_server.endpoint, "cloudfront")
    public = load_balancer(moto_server.endpoint, "internet-facing")
    with pytest.raises(ClientError) as err:
        client.create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(public["LoadBalancerArn"]))
    assert code_of(err) == ("InvalidArgument", 400) and "internet-facing" in str(err.value)
    missing = public["LoadBalancerArn"].replace("/app/", "/app/x").rsplit("/", 1)[0] + "/0000000000000000"
    with pytest.raises(ClientError) as err:
        client.create_vpc_origin(VpcOriginEndpointConfig=endpoint_config(missing))
    assert code_of(err) == ("InvalidArgument", 400)

    internal = load_balancer(moto_server.endpoint, "internal")
    config = endpoint_config(internal["LoadBalancerArn"])
    with pytest.raises(ClientError) as err:
        client.create_vpc_origin(VpcOriginEndpointConfig={**config, "OriginProtocolPolicy": "sometimes"})
    assert code_of(err) == ("InvalidArgument", 400)
    created = client.create_vpc_origin(VpcOriginEndpointConfig=config)
    origin_id, etag = created["VpcOrigin"]["Id"], created["ETag"]
    assert created["VpcOrigin"]["Status"] == "Deploying"
    with pytest.raises(ClientError) as err:
        client.create_vpc_origin(VpcOriginEndpointConfig=config)
    assert code_of(err) == ("EntityAlreadyExists", 409)
    with pytest.raises(ClientError) as err:
        client.update_vpc_origin(Id=origin_id, IfMatch="ESTALE", VpcOriginEndpointConfig=config)
    assert code_of(err) == ("PreconditionFailed", 412)
    other = load_balancer(moto_server.endpoint, "internal")
    with pytest.raises(ClientError) as err:
        client.update_vpc_origin(Id=origin_id, IfMatch=etag,
                                 VpcOriginEndpointConfig={**config, "Arn": other["LoadBalancerArn"]})
    assert code_of(err) == ("IllegalUpdate", 400)
    with pytest.raises(ClientError) as err:
        client.get_vpc_origin(Id="vo_doesnotexist")
    assert code_of(err) == ("EntityNotFound", 404)

    ref = uuid.uuid4().hex
    with pytest.raises(ClientError) as err:  # a distribution cannot name a VPC origin that is not there
        client.create_distribution(DistributionConfig=distribution(ref, VpcOrigin(
            "api", internal["DNSName"], "vo_doesnotexist").to_api()))
    assert code_of(err) == ("EntityNotFound", 404)
    dist = client.create_distribution(DistributionConfig=distribution(ref, VpcOrigin(
        "api", internal["DNSName"], origin_id, read_timeout=60).to_api()))["Distribution"]
    kept = dist["DistributionConfig"]["Origins"]["Items"][0]
    assert kept["VpcOriginConfig"] == {"VpcOriginId": origin_id, "OriginReadTimeout": 60,
                                       "OriginKeepaliveTimeout": 5}
    assert "CustomOriginConfig" not in kept
    got = client.get_distribution_config(Id=dist["Id"])["DistributionConfig"]["Origins"]["Items"][0]
    assert got["VpcOriginConfig"]["VpcOriginId"] == origin_id
    etag = client.get_vpc_origin(Id=origin_id)["ETag"]
    with pytest.raises(ClientError) as err:
        client.delete_vpc_origin(Id=origin_id, IfMatch=etag)
    assert code_of(err) == ("CannotDeleteEntityWhileInUse", 409)
    listed = client.list_vpc_origins()["VpcOriginList"]
    assert origin_id in [i["Id"] for i in listed["Items"]]
    summary = next(i for i in listed["Items"] if i["Id"] == origin_id)
    assert summary["OriginEndpointArn"] == internal["LoadBalancerArn"] and summary["Name"] == config["Name"]
