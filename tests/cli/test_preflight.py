"""Everything a deploy needs that can be known without writing is checked before the first write: with no
Docker engine where an image is to be built, or a DNS provider that rejects the credentials, deploy exits
2 in one line having sent no request that writes (counted by the proxy); plan refuses the same, and
when the checks pass, plan lists what it checked."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import REPO, MotoServer, run_cli
from tests.fakes import porkbun as pb_fake
from tests.fakes.aws_proxy import AwsProxy


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    with AwsProxy(moto_server.endpoint) as p:
        yield p


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("command", ["deploy", "plan"])
def test_an_image_build_with_no_docker_engine_writes_nothing(command: str, proxy: AwsProxy, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(REPO / "examples" / "fullstack-build", project)
    toml = project / "tscloud.toml"
    toml.write_text(re.sub(r'^app = .*$', f'app = "nodocker{uuid.uuid4().hex[:6]}"', toml.read_text(), flags=re.M))
    with proxy.recording() as seen:
        result = run_cli("--endpoint-url", proxy.endpoint, command, cwd=project, timeout=120,
                         env={"DOCKER_HOST": "tcp://127.0.0.1:1"})
    assert result.code == 2, result.output[-2000:]
    (error,) = _error_lines(result.stderr)
    assert "no Docker engine reachable at tcp://127.0.0.1:1 (from DOCKER_HOST)" in error, result.stderr
    assert "start a Docker engine" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert [r.describe() for r in seen if r.mutating] == []


@pytest.fixture
def porkbun() -> Iterator[pb_fake.FakePorkbun]:
    fake = pb_fake.FakePorkbun(domains=(f"pre{uuid.uuid4().hex[:8]}.com",))
    with fake.running():
        yield fake


def _api_domain(tmp_path: Path, moto: MotoServer, zone: str) -> Path:
    api = boto3.client("apigateway", region_name="us-east-1", endpoint_url=moto.endpoint)
    api_id = api.create_rest_api(name=f"pre-{uuid.uuid4().hex[:6]}")["id"]
    root = next(r["id"] for r in api.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=api_id, stageName="prod")
    (tmp_path / "tscloud.toml").write_text(
        f'app = "pre{uuid.uuid4().hex[:6]}"\npreset = "api-domain"\nregion = "us-east-1"\n\n[api_domain]\n'
        f'domain = "api.{zone}"\napi_id = "{api_id}"\nstage = "prod"\n\n[dns]\nprovider = "porkbun"\n')
    return tmp_path


def test_rejected_dns_credentials_stop_before_the_certificate(
        proxy: AwsProxy, moto_server: MotoServer, porkbun: pb_fake.FakePorkbun, tmp_path: Path) -> None:
    project = _api_domain(tmp_path, moto_server, next(iter(porkbun.domains)))
    env = {"TSCLOUD_PORKBUN_API_URL": porkbun.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
           "PORKBUN_SECRET_API_KEY": "sk1_not-the-secret-at-all"}
    with proxy.recording() as seen:
        result = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=project, env=env, timeout=120)
    assert result.code == 2, result.output[-2000:]
    (error,) = _error_lines(result.stderr)
    assert "porkbun: the API rejected the credentials" in error and "PORKBUN_SECRET_API_KEY" in result.stderr
    assert "sk1_not-the-secret-at-all" not in result.output
    assert [r.describe() for r in seen if r.mutating] == []
    assert not [r for r in seen if r.api_operation == "RequestCertificate"]


def test_plan_lists_what_it_checked(moto_server: MotoServer, porkbun: pb_fake.FakePorkbun, tmp_path: Path) -> None:
    zone = next(iter(porkbun.domains))
    project = _api_domain(tmp_path, moto_server, zone)
    env = {"TSCLOUD_PORKBUN_API_URL": porkbun.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
           "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}
    text = run_cli("--endpoint-url", moto_server.endpoint, "plan", cwd=project, env=env, timeout=120)
    assert text.code == 0, text.output
    assert f"checked porkbun: the credentials are accepted; api.{zone} is in zone {zone}" in text.stdout
    as_json = run_cli("--endpoint-url", moto_server.endpoint, "--output", "json", "plan", cwd=project, env=env)
    assert as_json.json()["preflight"] == [f"porkbun: the credentials are accepted; api.{zone} is in zone {zone}"]


def test_a_missing_load_balancer_stops_before_the_certificate(
        proxy: AwsProxy, porkbun: pb_fake.FakePorkbun, tmp_path: Path) -> None:
    zone = next(iter(porkbun.domains))
    (tmp_path / "tscloud.toml").write_text(
        f'app = "pre{uuid.uuid4().hex[:6]}"\npreset = "api-domain"\nregion = "us-east-1"\n\n[api_domain]\n'
        f'domain = "api.{zone}"\nload_balancer = "no-such-alb"\n\n[dns]\nprovider = "porkbun"\n')
    env = {"TSCLOUD_PORKBUN_API_URL": porkbun.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
           "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}
    with proxy.recording() as seen:
        result = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=tmp_path, env=env, timeout=120)
    assert result.code == 2, result.output[-2000:]
    (error,) = _error_lines(result.stderr)
    assert "api_domain.load_balancer: no load balancer 'no-such-alb'" in error
    assert [r.describe() for r in seen if r.mutating] == []
