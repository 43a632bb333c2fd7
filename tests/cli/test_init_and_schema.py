"""`tscloud init` then `plan` works for every preset; `tscloud config schema` is a JSON Schema that
accepts every bundled example and every init output, and rejects what the loader rejects."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from jsonschema import Draft202012Validator

from tscloud_py.config.docs import init_toml, json_schema
from tscloud_py.config.preset_registry import PRESET_NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
PRESETS = PRESET_NAMES


def plan_ok(cli: Any, cwd: Path, *target: str) -> dict[str, Any]:
    result = cli(*target, "--output", "json", "plan", cwd=cwd)
    assert result.code == 0, result.output
    doc: dict[str, Any] = result.json()
    assert doc["steps"] and all(s["action"] in ("create", "none") for s in doc["steps"])
    assert doc["destructive_count"] == 0 and doc["cost"]["monthly_usd"] >= 0
    return doc


def init(cli: Any, cwd: Path, preset: str, *extra: str) -> str:
    result = cli("init", "--preset", preset, *extra, cwd=cwd)
    assert result.code == 0, result.output
    assert f"wrote tscloud.toml ({preset}" in result.stdout
    return (cwd / "tscloud.toml").read_text()


def test_static_site_init_then_local_plan(cli: Any, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "static-site" / "dist", tmp_path / "build")   # the user's build output
    # no --yes: without a terminal init asks nothing
    text = init(cli, tmp_path, "static-site")
    assert 'dir = "build"' in text and "# the built site, relative to tscloud.toml" in text
    doc = plan_ok(cli, tmp_path, "--local")
    assert {s["id"] for s in doc["steps"]} >= {"bucket", "distribution", "upload"}


def test_fullstack_init_then_local_plan(cli: Any, tmp_path: Path) -> None:
    text = init(cli, tmp_path, "fullstack-app", "--yes", "--app", "myapi")
    assert "[api]" in text and "[database]" in text and "# [frontend]" in text and "# [[schedules]]" in text
    doc = plan_ok(cli, tmp_path, "--local")
    assert {"database", "cache", "service", "load-balancer"} <= {s["id"] for s in doc["steps"]}


def test_ssr_init_then_local_plan(cli: Any, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "ssr-app" / ".output", tmp_path / ".output")   # the user's Nitro build
    init(cli, tmp_path, "ssr-app", "-y")
    doc = plan_ok(cli, tmp_path, "--local")
    assert {"function", "bucket", "distribution"} <= {s["id"] for s in doc["steps"]}


def test_api_domain_init_then_plan_against_an_existing_api(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    """api-domain fronts an API that must exist: create one (and the zone) first, as a user would have."""
    moto_server.reset()
    text = init(cli, tmp_path, "api-domain", "--yes")
    kw = {"endpoint_url": moto_server.endpoint, "region_name": "us-east-1"}
    apigw = boto3.client("apigateway", **kw)
    api_id = apigw.create_rest_api(name="shop")["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    boto3.client("route53", **kw).create_hosted_zone(Name="example.com", CallerReference="init-test")
    # the one edit init asks for: point api_id at the API
    (tmp_path / "tscloud.toml").write_text(text.replace('api_id = "a1b2c3d4e5"', f'api_id = "{api_id}"'))
    doc = plan_ok(cli, tmp_path, "--endpoint-url", moto_server.endpoint)
    assert doc["cost"]["monthly_usd"] == 0.0


def test_init_refuses_to_overwrite_without_force(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "tscloud.toml").write_text("# mine\n")
    refused = cli("init", "--yes", cwd=tmp_path)
    assert refused.code == 2 and "already exists" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "tscloud.toml").read_text() == "# mine\n"
    forced = cli("init", "--yes", "--force", "--preset", "fullstack-app", cwd=tmp_path)
    assert forced.code == 0, forced.output
    assert 'preset = "fullstack-app"' in (tmp_path / "tscloud.toml").read_text()


def test_init_rejects_a_bad_app_name(cli: Any, tmp_path: Path) -> None:
    result = cli("init", "--yes", "--app", "Bad_Name", cwd=tmp_path)
    assert result.code == 2 and "--app" in result.stderr
    assert not (tmp_path / "tscloud.toml").exists()


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_config_schema_command_prints_the_schema(cli: Any) -> None:
    result = cli("config", "schema")
    assert result.code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["properties"]["preset"]["enum"] == list(PRESETS)
    api = schema["$defs"]["ApiConfig"]["properties"]
    assert api["cpu"]["enum"][0] == 256 and api["port"]["minimum"] == 1 and api["port"]["maximum"] == 65535
    assert api["port"]["description"] == "the container port"
    assert schema["$defs"]["ApiConfig"]["additionalProperties"] is False
    assert schema["properties"]["app"]["pattern"].startswith("^")


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "tscloud.toml").exists()))
def test_schema_accepts_every_example(validator: Draft202012Validator, example: str) -> None:
    doc = tomllib.loads((EXAMPLES / example / "tscloud.toml").read_text())
    assert [e.message for e in validator.iter_errors(doc)] == []


@pytest.mark.parametrize("preset", PRESETS)
def test_schema_accepts_every_init_output(validator: Draft202012Validator, preset: str) -> None:
    doc = tomllib.loads(init_toml(preset, "shop"))
    assert [e.message for e in validator.iter_errors(doc)] == []


@pytest.mark.parametrize("bad", [
    {"app": "shop", "preset": "static-site", "site": {"dri": "dist"}},             # unknown key
    {"app": "shop", "preset": "static-sight", "site": {}},                          # not an enum value
    {"app": "Shop", "preset": "static-site", "site": {}},                           # pattern
    {"app": "shop", "preset": "fullstack-app", "api": {"image": "x:1", "port": 0}},  # minimum
    {"app": "shop", "preset": "fullstack-app", "api": {"image": "x:1", "cpu": 300}},  # choices
    {"app": "shop", "preset": "ssr-app"},                                           # [ssr] required
])
def test_schema_rejects_what_the_loader_rejects(validator: Draft202012Validator, bad: dict[str, Any]) -> None:
    assert list(validator.iter_errors(bad))
