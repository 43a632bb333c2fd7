"""Crash safety (issue 2, "Done means" 3; issue 23, "Done means" 1): SIGKILL `tscloud deploy` right after its
N-th AWS request, for every N over a full static-site deploy, then re-run it at once: it must converge to the end
state of an uninterrupted run (one bucket, one distribution, one OAC, every file with its content and headers,
the same policy), with the journal kept and with the journal deleted between the kill and the re-run, and a
deploy after it must write nothing. No re-run passes --force-unlock or shortens the lease: the killed run's
lease is still live, and its takeover rests on the flock that died with it (`crash_support.kill_then_rerun`).
Destroy gets the same treatment: killed after its N-th request, a second destroy removes everything. A further
sweep does the same to a *redeploy* of a changed build (one file changed, one asset renamed): the re-run must
still upload, keep, delete and invalidate exactly what an uninterrupted redeploy does.

The counting proxy forwards the N-th request to moto and SIGKILLs the client before answering it; nothing
later reaches moto. Every case gets its own app name so one moto server serves the whole sweep, and cases run
on a small thread pool (each is three short subprocesses).

Each N of the first deploy is killed with the journal deleted first. Where that killed run left no journal in
the state bucket (it was killed before its first journal write), deleting the journal deleted nothing: the
journal-kept case of that N would be the same killed state followed by the same re-run and the same no-op run,
so that one run is both cases, and it is counted for both. Everywhere else the journal-kept case gets its own
killed run, re-run and no-op run. Every N is thus covered both ways by a real killed process and a real re-run.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from tests.cli.crash_support import kill_then_rerun
from tests.cli.site_support import end_state, make_site, normalised
from tests.cli.state_support import ensure_bucket
from tests.conftest import MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy, aws_like_distribution_summaries

WORKERS = int(os.environ.get("TSCLOUD_CRASH_WORKERS", "3"))
# CI budget: the first-deploy sweeps run every N; the redeploy sweep every 2nd N and the destroy sweep every
# 3rd N (each with the last), unless TSCLOUD_CRASH_FULL=1. Every N of all of them passed when written.
FULL = os.environ.get("TSCLOUD_CRASH_FULL") == "1"


def sample(ns: list[int], every: int) -> list[int]:
    return ns if FULL else sorted({*ns[::every], ns[-1]})


@dataclass
class Reference:
    state: dict[str, Any]
    requests: int
    operations: list[str]


@dataclass
class Case:
    n: int
    keep_journal: bool
    killed: bool
    what: str  # the N-th request
    error: str | None
    journal_left: bool = False  # the killed run left a journal (so deleting it was a change)


def change_build(project: Path) -> None:
    """Build 2: robots.txt changes, the JS asset gets a new hash (index.html follows it)."""
    dist = project / "dist"
    (dist / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    (dist / "assets" / "app-4d1e8b2c.js").rename(dist / "assets" / "app-5e6f7a8b.js")
    index = dist / "index.html"
    index.write_text(index.read_text().replace("app-4d1e8b2c.js", "app-5e6f7a8b.js"))


def _deploy(project: Path, endpoint: str) -> None:
    result = run_cli("--endpoint-url", endpoint, "--output", "json", "deploy", cwd=project)
    assert result.code == 0, result.output


@pytest.fixture(scope="module")
def redeploy_reference(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """An uninterrupted redeploy of build 2 over build 1."""
    aws_like_distribution_summaries()
    ensure_bucket(moto_server.endpoint)
    app = "crash-reref"
    project = make_site(tmp_path_factory.mktemp(app), app)
    with AwsProxy(moto_server.endpoint) as proxy:
        _deploy(project, proxy.endpoint)
        change_build(project)
        proxy.clear()
        _deploy(project, proxy.endpoint)
        operations = [r.describe() for r in proxy.requests()]
    state = normalised(end_state(moto_server.endpoint, app), app)
    assert state["invalidations"] == [["/", "/index.html", "/robots.txt"]]
    assert {"assets/app-4d1e8b2c.js", "assets/app-5e6f7a8b.js"} <= set(state["objects"])
    return Reference(state, len(operations), operations)


@pytest.fixture(scope="module")
def reference(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """An uninterrupted deploy: its end state and how many requests it makes."""
    aws_like_distribution_summaries()
    ensure_bucket(moto_server.endpoint)
    app = "crash-ref"
    project = make_site(tmp_path_factory.mktemp(app), app)
    with AwsProxy(moto_server.endpoint) as proxy:
        result = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project)
        assert result.code == 0, result.output
        operations = [r.describe() for r in proxy.requests()]
    state = normalised(end_state(moto_server.endpoint, app), app)
    assert state["buckets"] == 1 and state["distributions"] == 1 and state["oacs"] == 1
    assert len(state["objects"]) == 5
    return Reference(state, len(operations), operations)


def crash_and_converge(moto: str, root: Path, n: int, keep_journal: bool, reference: Reference,
                       redeploy: bool = False) -> Case:
    app = f"crash{'re' if redeploy else ''}-{n}-{'j' if keep_journal else 'x'}"
    project = make_site(root / app, app)
    with AwsProxy(moto) as proxy:
        if redeploy:
            _deploy(project, proxy.endpoint)
            change_build(project)
        run = kill_then_rerun(moto, project, n, app=app, keep_journal=keep_journal, proxy=proxy)
    if run.error is not None:
        return Case(n, keep_journal, run.killed, run.what, run.error, run.journal_left)
    state = normalised(end_state(moto, app), app)
    if state != reference.state:
        diff = {k: (state.get(k), reference.state.get(k)) for k in set(state) | set(reference.state)
                if state.get(k) != reference.state.get(k)}
        return Case(n, keep_journal, True, run.what, f"end state differs (got, want): {diff}", run.journal_left)
    return Case(n, keep_journal, True, run.what, None, run.journal_left)


def both_ways(moto: str, root: Path, n: int, reference: Reference) -> list[Case]:
    """Kill point N with the journal deleted, and with it kept: one run for both where the killed run left no
    journal to delete (see the module's docstring), else one run each."""
    deleted = crash_and_converge(moto, root, n, False, reference)
    if deleted.killed and not deleted.journal_left:
        return [deleted, replace(deleted, keep_journal=True)]
    return [deleted, crash_and_converge(moto, root, n, True, reference)]


def sweep(moto: str, root: Path, reference: Reference, ns: list[int]) -> list[Case]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [case for cases in pool.map(lambda n: both_ways(moto, root, n, reference), ns) for case in cases]


def sweep_redeploy(moto: str, root: Path, reference: Reference) -> list[Case]:
    ns = sample(list(range(1, reference.requests + 1)), 2)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda n: crash_and_converge(moto, root, n, True, reference, redeploy=True), ns))


# slow: every N of a ~33-request deploy, each killed with the journal deleted and kept (three CLI
# subprocesses per run, three runs at a time; a third of the Ns are the state bucket's lock and journal
# requests), split by N's parity into two tests of about the same length; minutes on a busy machine. Every N
# is the point of the test, so it is not sampled, and its time limit is generous instead.
@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("parity", [1, 0], ids=["odd-n", "even-n"])
def test_kill_after_every_request_then_deploy_converges(moto_server: MotoServer, reference: Reference,
                                                         tmp_path: Path, parity: int) -> None:
    assert reference.requests >= 15, reference.operations
    ns = [n for n in range(1, reference.requests + 1) if n % 2 == parity]
    cases = sweep(moto_server.endpoint, tmp_path, reference, ns)
    assert sorted((c.n, c.keep_journal) for c in cases) == sorted((n, keep) for n in ns for keep in (False, True))
    failures = [f"N={c.n} ({c.what}, journal {'kept' if c.keep_journal else 'deleted'}): {c.error}"
                for c in cases if c.error]
    assert not failures, "\n".join(failures)
    assert all(c.killed for c in cases)


@pytest.mark.slow  # as above: a full deploy, a kill and a converging deploy for every N of the redeploy
@pytest.mark.timeout(900)
def test_kill_a_redeploy_after_every_request_then_deploy_converges(
        moto_server: MotoServer, redeploy_reference: Reference, tmp_path: Path) -> None:
    assert redeploy_reference.requests >= 15, redeploy_reference.operations
    cases = sweep_redeploy(moto_server.endpoint, tmp_path, redeploy_reference)
    failures = [f"N={c.n} ({c.what}): {c.error}" for c in cases if c.error]
    assert not failures, "\n".join(failures)
    assert all(c.killed for c in cases)


@pytest.fixture(scope="module")
def destroy_requests(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> int:
    """How many requests an uninterrupted destroy of a deployed site makes."""
    aws_like_distribution_summaries()
    ensure_bucket(moto_server.endpoint)
    app = "crash-dsref"
    project = make_site(tmp_path_factory.mktemp(app), app)
    with AwsProxy(moto_server.endpoint) as proxy:
        _deploy(project, proxy.endpoint)
        proxy.clear()
        result = run_cli("--endpoint-url", proxy.endpoint, "--yes", "destroy", cwd=project)
        assert result.code == 0, result.output
        return len(proxy.requests())


def kill_destroy_and_rerun(moto: str, root: Path, n: int) -> Case:
    app = f"crashds-{n}"
    project = make_site(root / app, app)
    with AwsProxy(moto) as proxy:
        _deploy(project, proxy.endpoint)
        run = kill_then_rerun(moto, project, n, app=app, args=("--yes", "destroy"), proxy=proxy)
    if run.error is not None:
        return Case(n, True, run.killed, run.what, run.error)
    left = end_state(moto, app)
    if left != {"buckets": 0, "distributions": 0, "oacs": 0}:
        return Case(n, True, True, run.what, f"left behind: {left}")
    return Case(n, True, True, run.what, None)


@pytest.mark.slow  # a deploy, a killed destroy, a converging destroy and a no-op destroy per N
@pytest.mark.timeout(900)
def test_kill_destroy_after_its_nth_request_then_destroy_finishes(
        moto_server: MotoServer, destroy_requests: int, tmp_path: Path) -> None:
    assert destroy_requests >= 15
    # A destroy's request count can differ by one from the reference's (seen under load: a reference of 32
    # requests and a run of 31, whose S3 requests were the same 22; the difference is in its CloudFront
    # requests, where it polls the distribution while disabling it for as long as that takes), so the last
    # N may not exist in a run, which then ends unkilled. N stops one short of the reference's count.
    ns = sample(list(range(1, destroy_requests)), 3)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        cases = list(pool.map(lambda n: kill_destroy_and_rerun(moto_server.endpoint, tmp_path, n), ns))
    failures = [f"N={c.n} ({c.what}): {c.error}" for c in cases if c.error]
    assert not failures, "\n".join(failures)
