"""What a new user hit on a fresh clone (issue 22, "the small things"), each through the real CLI."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.cli.site_support import boto, make_site, tscloud
from tests.conftest import MotoServer, run_cli
from tests.fakes.strict_cloudfront import sample_distribution_config


def test_global_options_after_the_command(tmp_path: Path) -> None:
    project = make_site(tmp_path / "p", "after-flags")
    result = run_cli("plan", "--local", cwd=project)
    assert result.code == 0, result.output
    assert "create  distribution" in result.stdout
    assert "local emulator: http://127.0.0.1:" in result.stderr


def test_bare_tscloud_prints_the_help() -> None:
    result = run_cli()
    assert result.code == 0, result.output
    assert result.stdout.startswith("Usage: tscloud [OPTIONS] COMMAND")
    assert "deploy" in result.stdout and result.stderr == ""


def test_first_deploy_creates_its_upload_and_agrees_with_its_plan(moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path / "p", f"first-{uuid.uuid4().hex[:6]}")
    plan = tscloud(project, moto_server.endpoint, "--output", "json", "plan")
    assert plan.code == 0, plan.output
    actions = {s["id"]: s["action"] for s in plan.json()["steps"]}
    deploy = tscloud(project, moto_server.endpoint, "--output", "json", "deploy")
    assert deploy.code == 0, deploy.output
    statuses = {s["id"]: s["status"] for s in deploy.json()["steps"]}
    assert statuses["upload"] == "created" and actions["upload"] == "create"
    # a first build has nothing cached to invalidate: plan says so, deploy does so
    assert (actions["invalidation"], statuses["invalidation"]) == ("none", "unchanged")

    gone = tscloud(project, moto_server.endpoint, "--yes", "destroy")
    assert gone.code == 0, gone.output
    again = tscloud(project, moto_server.endpoint, "--yes", "destroy")
    assert again.code == 0, again.output
    assert "nothing to destroy" in again.stderr and "nothing to do" in again.stderr


def test_remove_origin_of_an_absent_origin_says_not_present(moto_server: MotoServer, tmp_path: Path) -> None:
    cf: Any = boto(moto_server.endpoint, "cloudfront")
    dist_id = cf.create_distribution(
        DistributionConfig=sample_distribution_config(uuid.uuid4().hex[:12]))["Distribution"]["Id"]
    result = tscloud(tmp_path, moto_server.endpoint, "cloudfront", "remove-origin", dist_id,
                     "--origin-id", "never-added")
    assert result.code == 0, result.output
    assert "not present" in result.stdout and "already has" not in result.stdout


def test_add_origin_for_a_server_on_this_machine(moto_server: MotoServer, tmp_path: Path) -> None:
    cf: Any = boto(moto_server.endpoint, "cloudfront")
    dist_id = cf.create_distribution(
        DistributionConfig=sample_distribution_config(uuid.uuid4().hex[:12]))["Distribution"]["Id"]
    result = tscloud(tmp_path, moto_server.endpoint, "cloudfront", "add-origin", dist_id, "--origin-id", "dev",
                     "--domain", "localhost", "--port", "8080", "--path-pattern", "/dev/*")
    assert result.code == 0, result.output
    origins = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["Origins"]["Items"]
    custom = next(o for o in origins if o["Id"] == "dev")["CustomOriginConfig"]
    assert (custom["HTTPPort"], custom["OriginProtocolPolicy"]) == (8080, "http-only")


def test_config_hints_name_the_key_and_the_file_used(tmp_path: Path) -> None:
    project = make_site(tmp_path / "p", "hinted")
    config = project / "site.toml"
    config.write_text((project / "tscloud.toml").read_text().replace("spa = true", 'spa = "yes"'))
    bad = run_cli("--config", str(config), "plan", cwd=project)
    assert bad.code == 2, bad.output
    assert f"hint: fix site.spa in {config}" in bad.stderr or "hint: fix site.spa in site.toml" in bad.stderr
    missing = run_cli("--config", "nowhere.toml", "plan", cwd=project)
    assert missing.code == 2 and "fix the key" not in missing.stderr, missing.output


def test_init_names_the_way_out_and_the_preset_meant(tmp_path: Path) -> None:
    typo = run_cli("init", "--preset", "statik-site", cwd=tmp_path)
    assert typo.code == 2 and "did you mean 'static-site'?" in typo.stderr.lower(), typo.output
    assert run_cli("init", "--preset", "static-site", cwd=tmp_path).code == 0
    again = run_cli("init", "--preset", "static-site", cwd=tmp_path)
    assert again.code == 2 and "already exists" in again.stderr and "--force" in again.stderr, again.output


def test_cost_lists_only_the_assumptions_of_its_preset(tmp_path: Path) -> None:
    project = make_site(tmp_path / "p", "priced")
    result = run_cli("cost", cwd=project)
    assert result.code == 0, result.output
    assumptions = result.stdout.split("assumptions:", 1)[1].split("not included:", 1)[0]
    assert "cache hit ratio" in assumptions
    for unrelated in ("NAT", "Lambda", "load balancer", "queue messages"):
        assert unrelated not in assumptions, assumptions
