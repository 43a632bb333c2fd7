"""The journal heals: a journal of the wrong shape, with values of the wrong type, or that is not a file
is set aside with a notice and rebuilt from reality; one that cannot be written stops the run first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.site_support import make_site
from tests.conftest import run_cli
from tests.fakes.aws_proxy import AwsProxy
from tscloud_py.errors import TscloudError
from tscloud_py.state.journal import Journal


def _local_site(root: Path, app: str) -> Path:
    """A site whose journal is the local file (what healing is about; the state bucket keeps versions)."""
    project = make_site(root, app)
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text() + '\n[state]\nbackend = "local"\n')
    return project


def _journal(project: Path) -> Path:
    (found,) = list((project / ".tscloud" / "state").rglob("journal.json"))
    return found


def _deploy(project: Path, endpoint: str) -> Any:
    return run_cli("--endpoint-url", endpoint, "--output", "json", "deploy", cwd=project)


@pytest.mark.parametrize("damage", ["steps-a-list", "outputs-a-string", "value-of-wrong-type", "a-directory",
                                    "not-json"])
def test_a_damaged_journal_is_set_aside_and_rebuilt(damage: str, moto_server: Any, tmp_path: Path) -> None:
    project = _local_site(tmp_path / "p", f"heal-{damage}"[:28].rstrip("-"))
    # one endpoint for every run: the journal is keyed by it
    with AwsProxy(moto_server.endpoint) as proxy:
        first = _deploy(project, proxy.endpoint)
        assert first.code == 0, first.output
        path = _journal(project)
        data = json.loads(path.read_text())
        if damage == "steps-a-list":
            data["steps"] = [1, 2]
        elif damage == "outputs-a-string":
            data["steps"]["bucket"]["outputs"] = "oops"
        elif damage == "value-of-wrong-type":
            data["steps"]["distribution"]["outputs"] = {k: 12345 for k in data["steps"]["distribution"]["outputs"]}
        if damage == "a-directory":
            path.unlink()
            path.mkdir()
        elif damage == "not-json":
            path.write_text("{not json")
        else:
            path.write_text(json.dumps(data))
        proxy.clear()
        again = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=project)
        writes = [r.describe() for r in proxy.mutating()]
        assert again.code == 0, again.output
        assert "Traceback" not in again.stderr and "TypeError" not in again.stderr
        if damage != "value-of-wrong-type":
            assert "set aside as journal.json.set-aside-" in again.stderr, again.stderr
            assert list(path.parent.glob("journal.json.set-aside-*"))
        assert writes == [], writes  # rebuilt from reality: nothing is re-created
        assert json.loads(_journal(project).read_text())["steps"]["bucket"]["outputs"]["bucket"]
        third = _deploy(project, proxy.endpoint)
    assert third.code == 0 and {s["status"] for s in third.json()["steps"]} == {"unchanged"}
    assert "set aside" not in third.stderr


def test_a_journal_that_cannot_be_written_stops_before_any_write() -> None:
    journal = Journal(Path("/proc/self/tscloud-journal.json"), app="a", stage="dev", preset="static-site")
    with pytest.raises(TscloudError, match="cannot be written"):
        journal.check_writable()
