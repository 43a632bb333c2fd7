"""The journal is a cache, never an authority: a journal changed in the state bucket cannot make destroy
restore a listener action or delete a DNS record that what AWS and the config say tscloud did not set.
api-domain through the real CLI against the moto server and the fake Porkbun."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.cli import state_support as state
from tests.conftest import MotoServer, run_cli
from tests.fakes import porkbun as pb_fake

REGION = "us-east-1"
EVIL = [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "evil.example",
                                                "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}]


@pytest.fixture
def porkbun() -> Iterator[pb_fake.FakePorkbun]:
    zone = f"tamper{uuid.uuid4().hex[:8]}.com"
    fake = pb_fake.FakePorkbun(domains=(zone,))
    with fake.running():
        yield fake


def _env(fake: pb_fake.FakePorkbun) -> dict[str, str]:
    return {"TSCLOUD_PORKBUN_API_URL": fake.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
            "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}


def _alb(moto: MotoServer) -> tuple[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto.endpoint)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]
    elb = boto3.client("elbv2", region_name=REGION, endpoint_url=moto.endpoint)
    name = f"alb-{uuid.uuid4().hex[:8]}"
    lb = elb.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0]
    tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc)["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return name, lb["LoadBalancerArn"]


def _project(tmp_path: Path, domain: str, load_balancer: str) -> tuple[Path, str]:
    app = f"tj{uuid.uuid4().hex[:8]}"
    (tmp_path / "tscloud.toml").write_text(
        f'app = "{app}"\npreset = "api-domain"\nregion = "{REGION}"\n\n[api_domain]\ndomain = "{domain}"\n'
        f'load_balancer = "{load_balancer}"\n\n[dns]\nprovider = "porkbun"\n')
    return tmp_path, app


def _tamper(moto: MotoServer, app: str, step: str, key: str, value: Any) -> None:
    journal = state.journal(moto.endpoint, app)
    assert journal is not None
    journal["steps"][step]["outputs"][key] = value
    boto3.client("s3", region_name=REGION, endpoint_url=moto.endpoint).put_object(
        Bucket=state.state_bucket(), Key=f"journals/{app}/dev.json", Body=json.dumps(journal).encode())


def _listeners(moto: MotoServer, lb_arn: str) -> dict[int, Any]:
    elb = boto3.client("elbv2", region_name=REGION, endpoint_url=moto.endpoint)
    return {lst["Port"]: lst["DefaultActions"] for lst in elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]}


def _deployed(moto: MotoServer, porkbun: pb_fake.FakePorkbun, tmp_path: Path) -> tuple[Path, str, str, str]:
    """An api-domain stage on a fresh ALB, deployed: (project, app, zone, load balancer ARN)."""
    zone = next(iter(porkbun.domains))
    name, lb_arn = _alb(moto)
    project, app = _project(tmp_path, f"api.{zone}", name)
    deployed = run_cli("--endpoint-url", moto.endpoint, "deploy", cwd=project, env=_env(porkbun))
    assert deployed.code == 0, deployed.output
    return project, app, zone, lb_arn


def test_a_tampered_listener_action_is_not_restored(moto_server: MotoServer, porkbun: pb_fake.FakePorkbun,
                                                    tmp_path: Path) -> None:
    project, app, _zone, lb_arn = _deployed(moto_server, porkbun, tmp_path)
    base = ("--endpoint-url", moto_server.endpoint)
    _tamper(moto_server, app, "listener", "http_original_actions", EVIL)
    before = _listeners(moto_server, lb_arn)

    gone = run_cli(*base, "--yes", "destroy", cwd=project, env=_env(porkbun))
    assert gone.code == 1, gone.output
    assert gone.stderr.startswith("error: listener: ") and "evil.example" in gone.stderr, gone.stderr
    assert "nothing was changed" in gone.stderr and "Traceback" not in gone.stderr
    assert _listeners(moto_server, lb_arn) == before  # the HTTP:80 redirect and our HTTPS:443 are as they were


def test_a_tampered_dns_value_does_not_delete_a_repointed_record(
        moto_server: MotoServer, porkbun: pb_fake.FakePorkbun, tmp_path: Path) -> None:
    project, app, zone, _lb_arn = _deployed(moto_server, porkbun, tmp_path)
    base = ("--endpoint-url", moto_server.endpoint)
    # a person re-points the name elsewhere; the journal is changed to say tscloud wrote that
    (record,) = porkbun.records(zone, f"api.{zone}", "CNAME")
    porkbun.domains[zone].remove(record)
    porkbun.add_record(zone, "api", "CNAME", "elsewhere.example.net")
    _tamper(moto_server, app, "dns", "value", "elsewhere.example.net")

    gone = run_cli(*base, "--yes", "destroy", cwd=project, env=_env(porkbun))
    assert gone.code == 1, gone.output
    assert gone.stderr.startswith("error: dns: ") and "elsewhere.example.net" in gone.stderr, gone.stderr
    assert [r["content"] for r in porkbun.records(zone, f"api.{zone}", "CNAME")] == ["elsewhere.example.net"]
