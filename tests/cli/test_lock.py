"""The run lock through the real CLI: a second concurrent deploy of the same app and stage exits at once naming
the holder; a killed holder of this working copy is taken over at once, one in another working copy or on
another machine when its lease runs out; --force-unlock breaks a stuck one after confirmation; Ctrl-C gives
it back. The lock is the state bucket's (the default backend) unless a test
says `[state] backend = "local"`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import state_support as state
from tests.cli.site_support import boto, make_site, tscloud
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import AwsProxy
from tscloud_py.state.object_store import LEASE_ENV


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    with AwsProxy(moto_server.endpoint) as p:
        yield p
        p.release()


def start_holder(project: Path, proxy: AwsProxy, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A deploy that takes the lock and then waits on its first bucket request (held by the proxy)."""
    # the site bucket's reads (its settings: bucket-level GETs), which come after the lock
    proxy.hold(lambda method, path: method == "GET" and path.count("/") == 1 and "tscloud-state-" not in path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tscloud_py", "--endpoint-url", proxy.endpoint, "deploy"], cwd=project,
        env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO), **(env or {})}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    assert proxy.holding.wait(60), "the first deploy never reached AWS"
    return proc


def finish(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
    proc.communicate(timeout=30)


def test_second_concurrent_deploy_exits_promptly_naming_the_holder(proxy: AwsProxy, tmp_path: Path) -> None:
    project = make_site(tmp_path, "lock-busy")
    first = start_holder(project, proxy)
    try:
        started = time.monotonic()
        second = tscloud(project, proxy.endpoint, "deploy")
        elapsed = time.monotonic() - started
        assert second.code == 1, second.output
        # The first deploy is held until released, so any bound proves the second did not wait for it;
        # a generous one keeps a busy machine from failing the test.
        assert elapsed < 60, f"the second deploy took {elapsed:.1f}s to give up"
        assert f"lock-busy-dev (us-east-1) is locked by pid {first.pid} on {socket.gethostname()}" in second.stderr
        assert "--force-unlock" in second.stderr
        assert "Traceback" not in second.stderr
        as_json = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
        assert as_json.code == 1 and f"pid {first.pid}" in as_json.json()["error"]

        proxy.release()
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    finally:
        finish(first)
    # Once the first run is over, the lock is free again.
    again = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert again.code == 0, again.output
    assert "took over" not in again.stderr


def test_a_killed_holder_of_this_working_copy_is_taken_over_at_once(proxy: AwsProxy, moto_server: MotoServer,
                                                                      tmp_path: Path) -> None:
    """Its flock on the working copy's lock file died with it: the lease it left is a dead run's, taken over
    by the next run at once (no --force-unlock, no wait), with one notice naming that run."""
    project = make_site(tmp_path, "lock-dead")
    first = start_holder(project, proxy)
    run = state.lock(moto_server.endpoint, "lock-dead")
    assert run is not None and run["pid"] == first.pid and len(run["run"]) == 16
    first.kill()
    finish(first)
    proxy.release()
    started = time.monotonic()
    result = tscloud(project, proxy.endpoint, "deploy")
    assert result.code == 0, result.output
    assert time.monotonic() - started < 60  # not the 120 s lease (generous for a busy machine)
    notices = [line for line in result.stderr.splitlines() if "took over the lock" in line]
    assert notices == [f"note: took over the lock from pid {first.pid} on {socket.gethostname()} (user "
                       f"{run['user']}, `{run['command']}`, since {run['started']}, run {run['run']}), "
                       "which is no longer running"]
    assert state.lock(moto_server.endpoint, "lock-dead") is None  # and gave it back


def clones(tmp_path: Path, app: str) -> tuple[Path, Path]:
    """Two working copies of one app (each its own .tscloud/), as two clones on one machine."""
    return make_site(tmp_path / "first-clone", app), make_site(tmp_path / "second-clone", app)


def test_a_live_holder_in_another_working_copy_is_refused(proxy: AwsProxy, tmp_path: Path) -> None:
    here, there = clones(tmp_path, "lock-clone")
    first = start_holder(there, proxy)
    try:
        refused = tscloud(here, proxy.endpoint, "deploy")
        assert refused.code == 1, refused.output
        assert f"is locked by pid {first.pid} on {socket.gethostname()}" in refused.stderr
        assert "lease expires in" in refused.stderr and "took over" not in refused.stderr
        once = tscloud(here, proxy.endpoint, "--yes", "deploy", "--force-unlock")
        assert once.code == 1 and "running on this host" in once.stderr, once.output
        proxy.release()
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err  # the holder was never disturbed
    finally:
        finish(first)


def test_a_killed_holder_in_another_working_copy_is_waited_for_by_its_lease(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    """This working copy cannot see that run's flock, so its death is unproven: its lease decides."""
    here, there = clones(tmp_path, "lock-lease")
    lease = 8.0  # seconds, recorded in the lock by its holder; the default is 120
    first = start_holder(there, proxy, env={LEASE_ENV: str(lease)})
    killed_at = time.monotonic()
    first.kill()
    finish(first)
    proxy.release()
    within = tscloud(here, proxy.endpoint, "deploy")
    if time.monotonic() - killed_at < lease - 1:
        assert within.code == 1, within.output
        assert f"is locked by pid {first.pid}" in within.stderr and "lease expires in" in within.stderr
    while time.monotonic() - killed_at < lease + 1.5:
        time.sleep(0.5)
    result = tscloud(here, proxy.endpoint, "deploy")
    assert result.code == 0, result.output
    assert f"note: took over the lock from pid {first.pid}" in result.stderr and "lease expired" in result.stderr
    assert state.lock(moto_server.endpoint, "lock-lease") is None  # and gave it back


def test_a_holder_on_another_machine_is_waited_for_by_its_lease(proxy: AwsProxy, moto_server: MotoServer,
                                                                 tmp_path: Path) -> None:
    """A lock whose record names another machine (a CI runner with our pid numbers, even) is never judged
    dead from here: refused while its lease is live, taken over once it has run out."""
    project = make_site(tmp_path, "lock-remote")
    state.ensure_bucket(moto_server.endpoint)
    lease = 6.0
    record = {"run": "5eed0f1ce0ffee00", "pid": os.getpid(), "host": "ci-runner-7", "user": "runner",
              "command": "tscloud deploy", "started": "2026-01-01T00:00:00Z", "lease_seconds": lease}
    boto(moto_server.endpoint, "s3").put_object(Bucket=state.state_bucket(), Key="locks/lock-remote/dev",
                                                Body=json.dumps(record).encode())
    written_at = time.monotonic()
    within = tscloud(project, proxy.endpoint, "deploy")
    if time.monotonic() - written_at < lease - 1:
        assert within.code == 1, within.output
        assert "locked by pid" in within.stderr and "on ci-runner-7" in within.stderr
        assert "run 5eed0f1ce0ffee00" in within.stderr and "lease expires in" in within.stderr
    while time.monotonic() - written_at < lease + 1.5:
        time.sleep(0.5)
    result = tscloud(project, proxy.endpoint, "deploy")
    assert result.code == 0, result.output
    assert "note: took over the lock from pid" in result.stderr and "run 5eed0f1ce0ffee00" in result.stderr
    assert "lease expired" in result.stderr
    assert state.lock(moto_server.endpoint, "lock-remote") is None


def test_local_backend_takes_a_dead_holders_lock_at_once(proxy: AwsProxy, tmp_path: Path) -> None:
    """The local lock is a flock, which the kernel drops when its holder dies: no lease to wait out."""
    project = make_site(tmp_path, "lock-local")
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text() + '\n[state]\nbackend = "local"\n')
    first = start_holder(project, proxy)
    first.kill()
    finish(first)
    proxy.release()
    result = tscloud(project, proxy.endpoint, "deploy")
    assert result.code == 0, result.output
    assert f"note: took over the lock from pid {first.pid}" in result.stderr
    assert list((project / ".tscloud" / "state").rglob("journal.json"))


def test_force_unlock_clears_a_stuck_holder(proxy: AwsProxy, tmp_path: Path) -> None:
    """A holder alive on this host is not broken by one --force-unlock (both would write at once); given
    twice it is, after confirmation (--yes off a terminal), and the notice says the holder still runs."""
    project = make_site(tmp_path, "lock-stuck")
    first = start_holder(project, proxy)
    try:
        first.send_signal(signal.SIGSTOP)  # alive, its lease live, going nowhere
        refused = tscloud(project, proxy.endpoint, "deploy")
        assert refused.code == 1 and f"pid {first.pid}" in refused.stderr
        once = tscloud(project, proxy.endpoint, "deploy", "--force-unlock")
        assert once.code == 1, once.output
        assert f"pid {first.pid}" in once.stderr and "running on this host" in once.stderr
        assert "twice" in once.stderr and "no longer running" not in once.stderr
        proxy.release()
        unconfirmed = tscloud(project, proxy.endpoint, "deploy", "--force-unlock", "--force-unlock")
        assert unconfirmed.code == 2 and "--yes" in unconfirmed.stderr and f"pid {first.pid}" in unconfirmed.stderr
        forced = tscloud(project, proxy.endpoint, "--yes", "deploy", "--force-unlock", "--force-unlock")
        assert forced.code == 0, forced.output
        assert f"took over the lock from pid {first.pid}" in forced.stderr
        assert "STILL RUNNING on this host" in forced.stderr and "no longer running" not in forced.stderr
        assert "bucket" in forced.stdout
    finally:
        finish(first)
    after = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert after.code == 0, after.output
    assert {s["status"] for s in after.json()["steps"]} == {"unchanged"}


def interrupted_record(project: Path, stderr: str, signal_name: str, endpoint: str) -> None:
    """An interrupted deploy leaves its run record and timeline page: the steps done, the step it was in (the
    bucket step, whose first request the proxy held) and the command that resumes it, named on stderr too."""
    records = sorted((project / ".tscloud" / "deploys").glob("*-deploy-*.json"))
    assert len(records) == 1, records
    record = json.loads(records[0].read_text())
    resume = f"tscloud --endpoint-url {endpoint} deploy"
    interrupted = record["interrupted"]
    assert record["ok"] is False and interrupted["signal"] == signal_name and interrupted["next"] == resume
    # the bucket step, and any step running beside it (the OAC's needs nothing either)
    assert "bucket" in interrupted["steps"] and set(interrupted["steps"]) <= {"bucket", "oac"}, interrupted
    done = {s["id"] for s in record["steps"]}
    assert not done & set(interrupted["steps"])
    assert all(s["status"] in ("created", "updated", "unchanged") for s in record["steps"]), record["steps"]
    bars = {r["id"]: r["status"] for r in record["timeline"]}
    assert {sid: bars[sid] for sid in interrupted["steps"]} == {sid: "interrupted" for sid in interrupted["steps"]}
    assert records[0].with_suffix(".html").is_file()
    assert f"note: run record {records[0]}; to resume: {resume}" in stderr


def test_ctrl_c_stops_at_once_releases_the_lock_and_a_rerun_converges(proxy: AwsProxy, moto_server: MotoServer,
                                                                       tmp_path: Path) -> None:
    project = make_site(tmp_path, "lock-intr")
    first = start_holder(project, proxy)  # in the middle of a step, its AWS call held by the proxy
    try:
        started = time.monotonic()
        first.send_signal(signal.SIGINT)
        # The running step's AWS call is held until proxy.release() below: exiting at all before that
        # proves Ctrl-C did not wait for it. The bound is generous because a busy 2-core machine can take
        # many seconds to schedule the exit.
        _out, err = first.communicate(timeout=120)
        assert time.monotonic() - started < 60, "Ctrl-C waited for the running step"
        assert first.returncode == 130, err
        assert "interrupted; re-run the same command to resume" in err
        assert "Traceback" not in err
    finally:
        finish(first)
    interrupted_record(project, err, "SIGINT", proxy.endpoint)
    assert state.lock(moto_server.endpoint, "lock-intr") is None  # released at once, not left to its lease
    proxy.release()
    again = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert again.code == 0, again.output
    assert "took over" not in again.stderr  # the lock was released, not left for a takeover


def test_sigterm_is_handled_like_ctrl_c(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    """SIGTERM (a CI runner cancelling, `kill`): a message, the lock file removed, exit 143, a clean re-run."""
    project = make_site(tmp_path, "lock-term")
    first = start_holder(project, proxy)
    try:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=30)
        assert first.returncode == 143, err
        assert "terminated (SIGTERM); re-run the same command to resume" in err
        assert "Traceback" not in err
    finally:
        finish(first)
    interrupted_record(project, err, "SIGTERM", proxy.endpoint)
    assert state.lock(moto_server.endpoint, "lock-term") is None
    proxy.release()
    again = tscloud(project, proxy.endpoint, "--output", "json", "deploy")
    assert again.code == 0, again.output
    assert "took over" not in again.stderr
