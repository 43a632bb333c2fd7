"""An ALB origin at the local edge: the listener's rules from the emulator, evaluated as the ALB would. The
fullstack preset's origin-verify rule holds: through the edge (which sends the distribution's X-Origin-Verify)
the request reaches the forward rule; with a wrong secret, or straight to the listener without the header, the
listener's default fixed 403 answers. The forward itself gets a 502 naming the target group, as the local
edge does not run the service's ECS tasks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.edge_support import fetch
from tests.cli.site_support import boto
from tests.conftest import MotoServer
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.aws.session import ClientFactory
from tscloud_py.emulator.edge.alb_origin import AlbOrigin
from tscloud_py.emulator.edge.origins import EdgeRequest
from tscloud_py.emulator.edge.server import EdgeFleet, open_fleet
from tscloud_py.operations.context import LOCAL_CREDENTIALS

SECRET = "s3cr3t-" + uuid.uuid4().hex
FORBIDDEN = {"Type": "fixed-response",
             "FixedResponseConfig": {"StatusCode": "403", "ContentType": "text/plain", "MessageBody": "Forbidden"}}


def alb_origin(origin_id: str, dns: str, secret: str) -> dict[str, Any]:
    return {"Id": origin_id, "DomainName": dns,
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": secret}]},
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}


def behavior(origin_id: str, pattern: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"TargetOriginId": origin_id, "ViewerProtocolPolicy": "allow-all",
                           "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
    if pattern:
        doc["PathPattern"] = pattern
    return doc


@pytest.fixture
def alb(moto_server: MotoServer) -> Iterator[tuple[EdgeFleet, str, str]]:
    ec2, elb, cf = (boto(moto_server.endpoint, s) for s in ("ec2", "elbv2", "cloudfront"))
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    name = f"edge-{uuid.uuid4().hex[:8]}"
    lb = elb.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0]
    tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")
    tg_arn = tg["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[FORBIDDEN])["Listeners"][0]["ListenerArn"]
    elb.create_rule(ListenerArn=listener, Priority=10, Actions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
                    Conditions=[{"Field": "http-header", "HttpHeaderConfig": {
                        "HttpHeaderName": "X-Origin-Verify", "Values": [SECRET]}}])
    origins = [alb_origin("api", lb["DNSName"], SECRET), alb_origin("stale", lb["DNSName"], "an-old-secret")]
    items = [behavior("api", "/api/*"), behavior("stale", "/stale/*")]
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": name, "Comment": name, "Enabled": True,
        "Origins": {"Quantity": len(origins), "Items": origins}, "DefaultCacheBehavior": behavior("api"),
        "CacheBehaviors": {"Quantity": len(items), "Items": items}})["Distribution"]
    fleet = open_fleet(ClientFactory(endpoint_url=moto_server.endpoint, credentials=LOCAL_CREDENTIALS))
    try:
        fleet.sync()
        yield fleet, dist["Id"], listener
    finally:
        fleet.close()


def test_origin_verify_holds_at_the_local_alb(alb: tuple[EdgeFleet, str, str], moto_server: MotoServer) -> None:
    fleet, dist_id, listener = alb
    url = fleet.served[dist_id].url.rstrip("/")
    through = fetch(url + "/api/health")
    assert through.status == 502 and through.headers["x-tscloud-origin"] == "api (alb)"
    assert b"forwards this request to target group" in through.body  # the header rule matched

    stale = fetch(url + "/stale/health")
    assert (stale.status, stale.body) == (403, b"Forbidden")  # the listener's default: a wrong secret

    direct = AlbOrigin(Elbv2(ClientFactory(endpoint_url=moto_server.endpoint, credentials=LOCAL_CREDENTIALS)))
    request = EdgeRequest("GET", "/api/health", "", [("Host", "alb")], b"", "127.0.0.1")
    bare = direct.answer(listener, request, request.headers, "alb", "alb")
    assert bare.status == 403  # straight to the ALB without X-Origin-Verify
    carried = direct.answer(listener, request, [("x-origin-verify", SECRET)], "alb", "alb")
    assert carried.status == 502  # header names compare case-insensitively: forwarded
