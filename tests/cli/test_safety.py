"""Safety: destroying prod needs --confirm <app>-<stage>; retain = true keeps data; plan counts (and
colours) destructive changes."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from tscloud_py.config.load import config_from_dict
from tscloud_py.config.schema import Config
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.operations.context import AppContext
from tscloud_py.operations.workspace import Workspace
from tscloud_py.presets import Preset
from tscloud_py.state.journal import Journal

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "static-site"


def site(tmp_path: Path, extra: str = "") -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "site", ignore=shutil.ignore_patterns(".tscloud"))
    if extra:
        path = tmp_path / "site" / "tscloud.toml"
        path.write_text(path.read_text().replace("[site]\n", f"[site]\n{extra}\n"))
    return tmp_path / "site"


def buckets(moto_server: Any) -> set[str]:
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_destroying_prod_needs_confirm(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    cwd = site(tmp_path)
    target = ("--endpoint-url", moto_server.endpoint, "--stage", "prod")
    assert cli(*target, "deploy", cwd=cwd).code == 0
    deployed = {b for b in buckets(moto_server) if b.startswith("hello-site-prod-")}
    assert deployed

    refused = cli(*target, "--yes", "destroy", cwd=cwd)                 # --yes is not enough for prod
    assert refused.code == 2
    assert "--confirm hello-site-prod" in refused.stderr and "Traceback" not in refused.stderr
    wrong = cli(*target, "destroy", "--confirm", "hello-site-dev", cwd=cwd)
    assert wrong.code == 2 and "--confirm hello-site-prod" in wrong.stderr
    assert deployed <= buckets(moto_server)                              # nothing was touched

    done = cli(*target, "destroy", "--confirm", "hello-site-prod", cwd=cwd)
    assert done.code == 0, done.output
    assert not deployed & buckets(moto_server)


def test_production_is_prod_too_and_dev_needs_yes_off_a_terminal(cli: Any, moto_server: Any,
                                                                  tmp_path: Path) -> None:
    cwd = site(tmp_path)
    endpoint = ("--endpoint-url", moto_server.endpoint)
    production = cli(*endpoint, "--stage", "production", "--yes", "destroy", cwd=cwd)
    assert production.code == 2 and "--confirm hello-site-production" in production.stderr
    dev = cli(*endpoint, "destroy", cwd=cwd)
    assert dev.code == 2 and "--yes" in dev.stderr


def test_retain_keeps_the_bucket_on_destroy(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    cwd = site(tmp_path, "retain = true")
    endpoint = ("--endpoint-url", moto_server.endpoint)
    assert cli(*endpoint, "deploy", cwd=cwd).code == 0
    kept = {b for b in buckets(moto_server) if b.startswith("hello-site-dev-site-")}
    assert len(kept) == 1
    result = cli(*endpoint, "--yes", "destroy", cwd=cwd)
    assert result.code == 0, result.output
    assert kept <= buckets(moto_server)
    s3 = boto3.client("s3", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    assert s3.list_objects_v2(Bucket=next(iter(kept)))["KeyCount"] > 0   # and its files


class FakeStep(Step):
    def __init__(self, sid: str, changes: list[Change], observed: Any = None) -> None:
        self.id, self.kind, self._changes, self._observed = sid, "fake", changes, observed

    def read(self, ctx: StepContext) -> Any:
        return self._observed

    def diff(self, ctx: StepContext, observed: Any) -> list[Change]:
        return self._changes

    def apply(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        return None


class FakePreset(Preset):
    """The real preset contract (its defaults for validate, preflight, secrets, plan extras) over fixed steps."""

    def __init__(self, config: Config, steps: list[Step]) -> None:
        super().__init__(config, SimpleNamespace(region="us-east-1"))  # type: ignore[arg-type]
        self._steps = steps

    def steps(self) -> list[Step]:
        return self._steps

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        return {}


@pytest.fixture
def fake_workspace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A real Workspace (and journal, on disk) whose preset's steps report fixed changes: the plan's rendering
    of destructive changes is what is tested, not any AWS read."""
    (tmp_path / "dist").mkdir()
    config = config_from_dict({"app": "shop", "preset": "static-site", "site": {}}, "tscloud.toml",
                              base_dir=tmp_path)
    steps: list[Step] = [
        FakeStep("bucket", [Change("tags", {"a": "1"}, {"a": "2"})], observed={"x": 1}),
        FakeStep("database", [Change("StorageEncrypted", False, True, destructive=True)], observed={"x": 1}),
        FakeStep("network", [Change("nat gateway", "nat-1", None, destructive=True)], observed={"x": 1}),
        FakeStep("logs", []),
    ]
    journal = Journal(tmp_path / "journal.json", app="shop", stage="dev", preset="static-site")
    ws = Workspace(AppContext(), config, SimpleNamespace(region="us-east-1"),  # type: ignore[arg-type]
                   FakePreset(config, steps), steps, journal, SimpleNamespace())  # type: ignore[arg-type]
    monkeypatch.setattr("tscloud_py.operations.workspace.Workspace.open",
                        classmethod(lambda cls, app, options=None, **_: ws))


def run_plan(*args: str, env: dict[str, str] | None = None) -> Any:
    from tscloud_py.cli.main import cli

    return CliRunner().invoke(cli, [*args, "plan"], env=env, obj=AppContext())


def test_plan_counts_destructive_changes_in_json(fake_workspace: None) -> None:
    import json

    result = run_plan("--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["destructive_count"] == 2
    assert {s["id"]: s["destructive"] for s in doc["steps"]} == {
        "bucket": False, "database": True, "network": True, "logs": False}


def test_plan_marks_destructive_changes_red_in_text(fake_workspace: None) -> None:
    result = run_plan(env={"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": ""})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "2 destructive" in out
    red = "\x1b[1;31m"
    assert f"{red}update " in out                                 # the destructive steps' action, bold red
    assert f"{red}! " in out and "StorageEncrypted" in out        # each destructive change marked "!"
    plain = run_plan()
    assert "2 destructive" in plain.output and "! nat gateway: nat-1 -> (removed)" in plain.output
