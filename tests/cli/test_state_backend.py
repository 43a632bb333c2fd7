"""The state bucket through the real CLI: two machines (two working directories with their own HOMEs) share one
lock and one journal; a run that lost its lock cannot overwrite the journal; `tscloud state` shows, lists,
migrates and unlocks; `plan` writes nothing; the bucket has the guard rails of every bucket tscloud owns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import state_support as state
from tests.cli.site_support import boto, make_site, tscloud
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import AwsProxy


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    with AwsProxy(moto_server.endpoint) as p:
        yield p
        p.release()


def machine(root: Path, name: str, app: str) -> tuple[Path, dict[str, str]]:
    """A working directory with its own HOME: another machine, as far as tscloud can tell."""
    project = make_site(root / name / "work", app)
    home = root / name / "home"
    home.mkdir()
    return project, {"HOME": str(home)}


def held_deploy(project: Path, proxy: AwsProxy, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """A deploy that holds the lock, waiting on its first bucket request (held by the proxy)."""
    # the site bucket's reads (its settings: bucket-level GETs), which come after the lock
    proxy.hold(lambda method, path: method == "GET" and path.count("/") == 1 and "tscloud-state-" not in path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tscloud_py", "--endpoint-url", proxy.endpoint, *args, "deploy"], cwd=project,
        env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO), **env}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    assert proxy.holding.wait(60), "the first deploy never reached AWS"
    return proc


def test_two_machines_one_stage_exactly_one_runs(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    laptop, laptop_env = machine(tmp_path, "laptop", "team-site")
    ci, ci_env = machine(tmp_path, "ci", "team-site")
    first = held_deploy(laptop, proxy, laptop_env)
    try:
        second = tscloud(ci, proxy.endpoint, "deploy", env=ci_env)
        assert second.code == 1, second.output
        assert f"team-site-dev (us-east-1) is locked by pid {first.pid}" in second.stderr
        assert "since " in second.stderr and "lease expires in" in second.stderr
        assert "Traceback" not in second.stderr
        shown = tscloud(ci, proxy.endpoint, "--output", "json", "state", "show", env=ci_env)
        assert shown.code == 0 and shown.json()["lock"]["holder"]["pid"] == first.pid
        proxy.release()
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate(timeout=30)
    with proxy.recording() as requests:
        after = tscloud(ci, proxy.endpoint, "--output", "json", "deploy", env=ci_env)
    assert after.code == 0, after.output
    assert {s["status"] for s in after.json()["steps"]} == {"unchanged"}  # the laptop's journal, and reality
    assert [r.describe() for r in requests if r.resource_write] == []
    assert not list(ci.glob(".tscloud/state/**/journal.json"))  # nothing kept on the machine


def test_a_run_that_lost_its_lock_cannot_overwrite_the_journal(proxy: AwsProxy, moto_server: MotoServer,
                                                               tmp_path: Path) -> None:
    slow, slow_env = machine(tmp_path, "slow", "lost-lock")
    fast, fast_env = machine(tmp_path, "fast", "lost-lock")
    first = held_deploy(slow, proxy, slow_env)
    try:
        # The other machine breaks the (live) lock and deploys: it now owns the stage and its journal.
        forced = tscloud(fast, moto_server.endpoint, "--yes", "deploy", "--force-unlock", "--force-unlock",
                         env=fast_env)
        assert forced.code == 0, forced.output
        assert f"took over the lock from pid {first.pid}" in forced.stderr
        assert "STILL RUNNING on this host" in forced.stderr
        journal_before = state.journal_text(moto_server.endpoint, "lost-lock")
        assert journal_before is not None
        proxy.release()
        _out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate(timeout=30)
    assert first.returncode == 1, err
    assert "was written by another run since this one read it" in err and "Traceback" not in err
    assert state.journal_text(moto_server.endpoint, "lost-lock") == journal_before  # nothing overwritten
    assert state.lock(moto_server.endpoint, "lost-lock") is None
    again = tscloud(slow, moto_server.endpoint, "--output", "json", "deploy", env=slow_env)
    assert again.code == 0 and {s["status"] for s in again.json()["steps"]} == {"unchanged"}, again.output


def test_state_bucket_guard_rails_and_plan_writes_nothing(proxy: AwsProxy, moto_server: MotoServer,
                                                          tmp_path: Path) -> None:
    moto_server.reset()  # no state bucket yet
    project = make_site(tmp_path, "rails")
    with proxy.recording() as planned:
        plan = tscloud(project, proxy.endpoint, "plan")
    assert plan.code == 0, plan.output
    assert [r.describe() for r in planned if r.mutating] == []
    s3 = boto(moto_server.endpoint, "s3")
    assert state.state_bucket() not in {b["Name"] for b in s3.list_buckets()["Buckets"]}

    assert tscloud(project, proxy.endpoint, "deploy").code == 0
    bucket = state.state_bucket()
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags == {"tscloud:purpose": "state", "tscloud:state": "v1"}
    journal = state.journal(moto_server.endpoint, "rails")
    assert journal is not None and set(journal["steps"]) >= {"bucket", "distribution", "upload"}


def test_state_show_list_unlock(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "shown")
    assert tscloud(project, proxy.endpoint, "deploy").code == 0
    shown = tscloud(project, proxy.endpoint, "state", "show")
    assert shown.code == 0, shown.output
    assert "lock: free" in shown.stdout and "journal: 6 steps, written" in shown.stdout
    listed = tscloud(project, proxy.endpoint, "--output", "json", "state", "list")
    assert {"app": "shown", "stage": "dev", "journal": True, "locked": False} in listed.json()["stages"]

    first = held_deploy(project, proxy, {})
    try:
        doc = tscloud(project, proxy.endpoint, "--output", "json", "state", "show").json()
        assert doc["lock"]["holder"]["pid"] == first.pid and doc["lock"]["lease"].startswith("expires in")
        refused = tscloud(project, proxy.endpoint, "state", "unlock")
        assert refused.code == 2 and "--yes" in refused.stderr
        broke = tscloud(project, proxy.endpoint, "--yes", "state", "unlock")
        assert broke.code == 0 and f"broke the lock of pid {first.pid}" in broke.stdout
        assert state.lock(moto_server.endpoint, "shown") is None
    finally:
        first.kill()
        first.communicate(timeout=30)
        proxy.release()
    again = tscloud(project, proxy.endpoint, "state", "unlock")
    assert again.code == 0 and "the lock is free" in again.stdout


def test_state_migrate_moves_a_local_journal_once(moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "moved")
    toml = project / "tscloud.toml"
    plain = toml.read_text()
    toml.write_text(plain + '\n[state]\nbackend = "local"\n')
    assert tscloud(project, moto_server.endpoint, "deploy").code == 0
    (local,) = (project / ".tscloud" / "state").rglob("journal.json")
    recorded = json.loads(local.read_text())
    toml.write_text(plain)

    moved = tscloud(project, moto_server.endpoint, "state", "migrate")
    assert moved.code == 0 and "moved " in moved.stdout, moved.output
    assert state.journal(moto_server.endpoint, "moved") == recorded
    assert not local.exists()
    twice = tscloud(project, moto_server.endpoint, "state", "migrate")
    assert twice.code == 0 and "already migrated" in twice.stdout
    redeploy = tscloud(project, moto_server.endpoint, "--output", "json", "deploy")
    assert {s["status"] for s in redeploy.json()["steps"]} == {"unchanged"}


def test_state_config_errors(moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "badstate")
    toml = project / "tscloud.toml"
    plain = toml.read_text()
    toml.write_text(plain + '\n[state]\nbackend = "dynamo"\n')
    bad = tscloud(project, moto_server.endpoint, "deploy")
    assert bad.code == 2 and "state.backend" in bad.stderr, bad.output
    toml.write_text(plain + '\n[state]\nbucket = "no-such-state-bucket"\n')
    missing = tscloud(project, moto_server.endpoint, "deploy")
    assert missing.code == 2 and "[state] bucket" in missing.stderr and "no-such-state-bucket" in missing.stderr
    boto(moto_server.endpoint, "s3").create_bucket(Bucket="my-own-state")
    toml.write_text(plain + '\n[state]\nbucket = "my-own-state"\n')
    ok = tscloud(project, moto_server.endpoint, "deploy")
    assert ok.code == 0, ok.output
    keys = boto(moto_server.endpoint, "s3").list_objects_v2(Bucket="my-own-state")["Contents"]
    assert [k["Key"] for k in keys] == ["journals/badstate/dev.json", "locks/badstate/dev"]  # given back


def test_a_deploy_reads_the_journal_once_and_only_with_the_lock_held(proxy: AwsProxy, tmp_path: Path) -> None:
    """What is read before the lock is held could change before then. A first run here reads the lock,
    takes it, then reads the journal; a run after one that gave the lock back from this working copy takes
    it back on the released record's ETag and, beside that write, asks whether the journal still has the
    ETag that run left (no body when it has): no run held the lock in between, so none wrote the journal.
    The journal's last write and the lock's release go out together."""
    project = make_site(tmp_path, "readonce")
    assert tscloud(project, proxy.endpoint, "deploy").code == 0

    def state_requests() -> list[tuple[str, str]]:
        with proxy.recording() as seen:  # a lease long enough that no renewal joins the requests on a slow machine
            again = tscloud(project, proxy.endpoint, "deploy", env={"TSCLOUD_LOCK_LEASE_SECONDS": "3600"})
        assert again.code == 0, again.output
        return [(r.api_operation, r.path.split("/")[2] if r.path.count("/") > 1 else "")
                for r in sorted(seen, key=lambda r: r.started) if "/tscloud-state-" in r.path]

    kept = next((project / ".tscloud" / "locks").rglob("released.json"))
    kept.unlink()  # as on a machine that never deployed this stage
    first = state_requests()
    assert first[:3] == [("GetObject", "locks"), ("PutObject", "locks"), ("GetObject", "journals")]
    assert sorted(first[3:]) == [("PutObject", "journals"), ("PutObject", "locks")]
    assert kept.exists()
    back = state_requests()
    assert sorted(back[:2]) == [("GetObject", "journals"), ("PutObject", "locks")]
    assert sorted(back[2:]) == [("PutObject", "journals"), ("PutObject", "locks")]
