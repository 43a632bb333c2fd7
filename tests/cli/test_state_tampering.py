"""A journal in the state bucket that is not what tscloud wrote (invalid JSON, the wrong shapes, 20 MB of
`[`, 300,000 fake steps, another stage's journal) is read as malformed: `state show` says so, the next
deploy sets it aside with a one-line notice and rebuilds from reality (exit 0), and the journal it
writes is this stage's, of normal size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli import state_support as state
from tests.cli.site_support import boto, deploy_json, make_site, tscloud
from tests.conftest import MotoServer


def _variant(name: str, journal: dict[str, Any]) -> bytes:
    if name == "invalid-json":
        return b'{"version": 1, "steps": {'
    if name == "wrong-shapes":
        return json.dumps({**journal, "steps": {"bucket": {"status": 7, "outputs": ["x"]}}}).encode()
    if name == "deep-brackets":
        return b"[" * (20 * 1024 * 1024)
    if name == "fake-steps":
        steps = {f"fake-{i}": {"status": "created", "outputs": {}} for i in range(300_000)}
        return json.dumps({**journal, "steps": steps}).encode()
    assert name == "other-app"
    return json.dumps({**journal, "app": "someone-else"}).encode()


@pytest.mark.parametrize("name", ["invalid-json", "wrong-shapes", "deep-brackets", "fake-steps", "other-app"])
def test_a_tampered_journal_is_set_aside_and_rebuilt(name: str, moto_server: MotoServer, tmp_path: Path) -> None:
    app = f"tamper-{name}"[:28]
    project = make_site(tmp_path, app)
    first = deploy_json(project, moto_server.endpoint)
    journal = state.journal(moto_server.endpoint, app)
    assert journal is not None
    boto(moto_server.endpoint, "s3").put_object(Bucket=state.state_bucket(), Key=f"journals/{app}/dev.json",
                                                Body=_variant(name, journal))

    shown = tscloud(project, moto_server.endpoint, "state", "show")
    assert shown.code == 0, shown.output[-2000:]
    assert "journal:" in shown.stdout and "sets it aside" in shown.stdout, shown.stdout
    assert tscloud(project, moto_server.endpoint, "--output", "json", "state", "show").json()["journal"]["malformed"]

    again = tscloud(project, moto_server.endpoint, "deploy")
    assert again.code == 0, again.output[-2000:]
    notes = [line for line in again.stderr.splitlines() if "set aside" in line]
    assert len(notes) == 1 and notes[0].startswith("note: the journal "), again.stderr[-2000:]
    assert "Traceback" not in again.stderr

    rebuilt = state.journal_text(moto_server.endpoint, app)
    assert rebuilt is not None and len(rebuilt) < 100_000
    doc = json.loads(rebuilt)
    assert doc["app"] == app and set(doc["steps"]) == set(journal["steps"])
    assert tscloud(project, moto_server.endpoint, "--output", "json", "outputs").json() == first["outputs"]


LOCKS = {"garbage": b"\x00\xffnot a lock", "lease-abc": {"lease_seconds": "abc"}, "lease-list": {"lease_seconds": [1]},
         "lease-huge": {"lease_seconds": 1e308}, "lease-nan": b'{"pid": 1, "lease_seconds": NaN}'}


@pytest.mark.parametrize("name", list(LOCKS))
def test_a_malformed_lock_is_reported_and_breakable(name: str, moto_server: MotoServer, tmp_path: Path) -> None:
    app = f"badlock-{name}"[:28]
    project = make_site(tmp_path, app)
    state.ensure_bucket(moto_server.endpoint)
    variant = LOCKS[name]
    body = variant if isinstance(variant, bytes) else json.dumps(
        {"run": "ab12", "pid": 4242, "host": "elsewhere", "user": "u", "command": "tscloud deploy",
         "started": "2026-01-01T00:00:00Z", **variant}).encode()
    boto(moto_server.endpoint, "s3").put_object(Bucket=state.state_bucket(), Key=f"locks/{app}/dev", Body=body)

    refused = tscloud(project, moto_server.endpoint, "deploy")
    assert refused.code == 1, refused.output[-2000:]
    assert "malformed lock record" in refused.stderr and "--force-unlock" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) <= 2 and "Traceback" not in refused.stderr
    shown = tscloud(project, moto_server.endpoint, "state", "show")
    assert shown.code == 0 and "malformed lock record" in shown.stdout, shown.output
    assert "expires in" in shown.stdout and len(shown.stdout) < 1000  # the default lease, not 300 digits
    forced = tscloud(project, moto_server.endpoint, "--yes", "deploy", "--force-unlock")
    assert forced.code == 0, forced.output[-2000:]
    assert state.lock(moto_server.endpoint, app) is None
