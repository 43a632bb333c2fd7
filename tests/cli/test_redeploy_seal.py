"""The everyday redeploy reads the sealed manifest instead of listing the bucket, and only while the journal
is current (issue 29): a run that stopped before its summary, by Ctrl-C or by SIGKILL, is never trusted.

The stopped runs below uploaded a changed file and were stopped before their manifest landed; the file is
then changed back. Trusting the old seal would leave the stopped run's bytes served, since the local file is
again what the manifest records: the re-run must list, find the object differs, and upload it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.site_support import deploy_json, invalidations, make_site, objects
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import AwsProxy, Recorded, aws_like_distribution_summaries

ROBOTS = "User-agent: *\nAllow: /\n"  # as the example site has it


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    aws_like_distribution_summaries()
    with AwsProxy(moto_server.endpoint) as counting:
        yield counting


def _ops(requests: list[Recorded]) -> list[str]:
    return [r.api_operation for r in requests if not r.state]


def _manifest_put(method: str, path: str) -> bool:
    return method == "PUT" and path.endswith("/_tscloud/manifest.json")


def test_a_redeploy_reads_the_sealed_manifest_instead_of_listing(proxy: AwsProxy, moto_server: MotoServer,
                                                                  tmp_path: Path) -> None:
    project = make_site(tmp_path, "seal-read")
    first = deploy_json(project, proxy.endpoint)
    bucket, dist_id = first["outputs"]["bucket"], first["outputs"]["distribution_id"]

    (project / "dist" / "robots.txt").write_text("User-agent: *\nDisallow: /a/\n")
    with proxy.recording() as requests:
        second = deploy_json(project, proxy.endpoint)
    assert {s["id"]: s["status"] for s in second["steps"]}["upload"] == "updated"
    ops = _ops(requests)
    assert "ListObjectsV2" not in ops and "HeadObject" not in ops, ops
    # This run put the build's manifest in place: no earlier invalidation is looked for.
    assert "ListInvalidations" not in ops, ops
    puts = sorted(r.path for r in requests if r.api_operation == "PutObject" and not r.state)
    assert puts == [f"/{bucket}/_tscloud/manifest.json", f"/{bucket}/robots.txt"]
    assert invalidations(moto_server.endpoint, dist_id) == [["/robots.txt"]]
    assert objects(moto_server.endpoint, bucket)["robots.txt"]["body"] == b"User-agent: *\nDisallow: /a/\n"

    with proxy.recording() as again:
        third = deploy_json(project, proxy.endpoint)
    assert {s["status"] for s in third["steps"]} == {"unchanged"}
    assert "ListObjectsV2" not in _ops(again) and [r.describe() for r in again if r.resource_write] == []
    # The manifest this working copy wrote is kept: S3 is asked only whether it still has the sealed ETag.
    manifest_reads = [r for r in again if r.api_operation == "GetObject" and r.path.endswith("/manifest.json")]
    assert [r.status for r in manifest_reads] == [304]

    kept = next((project / ".tscloud" / "cache").glob("manifest-*"))
    kept.write_bytes(kept.read_bytes()[:-5])  # cut short on disk: never taken for the bucket's manifest
    with proxy.recording() as cut:
        fourth = deploy_json(project, proxy.endpoint)
    assert {s["status"] for s in fourth["steps"]} == {"unchanged"}
    manifest_reads = [r for r in cut if r.api_operation == "GetObject" and r.path.endswith("/manifest.json")]
    assert [r.status for r in manifest_reads] == [200] and "ListObjectsV2" not in _ops(cut)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_a_run_stopped_before_its_summary_is_not_trusted(proxy: AwsProxy, moto_server: MotoServer,
                                                          tmp_path: Path, stop: signal.Signals) -> None:
    project = make_site(tmp_path, f"seal-stop-{stop.name.lower()}")
    bucket = deploy_json(project, proxy.endpoint)["outputs"]["bucket"]
    robots = project / "dist" / "robots.txt"
    assert robots.read_text() == ROBOTS

    robots.write_text("changed by the stopped run\n")
    proxy.hold(_manifest_put)  # the changed file lands; the manifest that would record it waits
    proc = subprocess.Popen([sys.executable, "-m", "tscloud_py", "--endpoint-url", proxy.endpoint, "deploy"],
                            cwd=project, env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert proxy.holding.wait(120), "the stopped run never reached its manifest"
        assert objects(moto_server.endpoint, bucket)["robots.txt"]["body"] == b"changed by the stopped run\n"
        proc.send_signal(stop)
        if stop == signal.SIGINT:
            time.sleep(1.0)  # it unwinds (marking the journal) while its upload waits on the held request
        # The held manifest is refused, not written: the stopped run leaves the bucket's manifest as it was.
        proxy.fail(lambda method, path, _query: _manifest_put(method, path), 403, "AccessDenied", "refused")
        proxy.release()
        proc.wait(60)
    finally:
        proxy.release()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    proxy.fail_none()
    assert proc.returncode == (130 if stop == signal.SIGINT else -9), proc.stderr.read()  # type: ignore[union-attr]

    robots.write_text(ROBOTS)  # back to what the sealed manifest records
    with proxy.recording() as requests:
        rerun = deploy_json(project, proxy.endpoint)
    assert "ListObjectsV2" in _ops(requests)
    assert {s["id"]: s["status"] for s in rerun["steps"]}["upload"] == "updated"
    assert objects(moto_server.endpoint, bucket)["robots.txt"]["body"] == ROBOTS.encode()
