"""A deploy stopped halfway through its upload is resumed without sending again what landed (issue 23,
"nothing uploaded twice").

A static site of 3,000 files is stopped, by SIGKILL or by Ctrl-C (SIGINT), once at least 1,000 of its
PutObjects were answered; the re-run's PutObjects are counted at the proxy: at most the files that had not
landed, plus 2%. What the stopped run landed is on no manifest yet, so the re-run finds it by its ETag in the
listing and its headers in one HEAD each. A multipart upload cut off while its parts are on the wire leaves no
incomplete upload behind once the re-run has succeeded. Each re-run starts at once, with no --force-unlock:
the stopped run's lock is taken over because its holder is provably gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.site_support import boto, make_site, tscloud
from tests.cli.state_support import ensure_bucket
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import AwsProxy, Recorded

FILES = 3000
LANDED_BEFORE_STOP = 1000


def _site_puts(requests: list[Recorded], app: str, *, answered: bool) -> list[Recorded]:
    """PutObjects of the site's files (not its manifest), answered with success if ``answered``."""
    prefix = f"/{app}-dev-site-"
    return [r for r in requests if r.api_operation == "PutObject" and r.path.startswith(prefix)
            and "/_tscloud/" not in r.path and (not answered or r.status == 200)]


def _big_site(root: Path, app: str) -> Path:
    project = make_site(root, app)
    docs = project / "dist" / "docs"
    docs.mkdir()
    have = sum(1 for p in (project / "dist").rglob("*") if p.is_file())
    for i in range(FILES - have):
        (docs / f"page-{i:05d}.txt").write_text(f"page {i}\n" * 8)
    return project


def _deploy_process(project: Path, endpoint: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tscloud_py", "--endpoint-url", endpoint, "--yes", "deploy"],
                            cwd=project, env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop_when(proxy: AwsProxy, app: str, landed: int, proc: subprocess.Popen[bytes], sig: int) -> None:
    deadline = time.monotonic() + 240
    while len(_site_puts(proxy.requests(), app, answered=True)) < landed:
        assert proc.poll() is None, f"the deploy ended before {landed} uploads: {proc.stderr.read()!r}"  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the upload did not get going"
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait(timeout=60)


def _settled(proxy: AwsProxy) -> list[Recorded]:
    """The requests once those in flight at the stop have been answered (the proxy outlives the client)."""
    seen = -1
    while seen != len(proxy.requests()):
        seen = len(proxy.requests())
        time.sleep(0.5)
    return proxy.requests()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_stopped_upload_is_resumed_not_repeated(moto_server: MotoServer, tmp_path: Path, sig: int) -> None:
    ensure_bucket(moto_server.endpoint)
    app = f"resume-{sig}"
    project = _big_site(tmp_path / app, app)
    with AwsProxy(moto_server.endpoint) as proxy:
        proc = _deploy_process(project, proxy.endpoint)
        _stop_when(proxy, app, LANDED_BEFORE_STOP, proc, sig)
        assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
        landed = {r.path for r in _site_puts(_settled(proxy), app, answered=True)}
        assert LANDED_BEFORE_STOP <= len(landed) < FILES

        proxy.clear()
        rerun = tscloud(project, proxy.endpoint, "--yes", "deploy")
        assert rerun.code == 0, rerun.output
        resent = _site_puts(proxy.requests(), app, answered=False)
        assert len(resent) <= FILES - len(landed) + FILES * 0.02, (len(resent), len(landed))

        bucket = next(b["Name"] for b in boto(moto_server.endpoint, "s3").list_buckets()["Buckets"]
                      if b["Name"].startswith(f"{app}-dev-site-"))
        keys = {o["Key"] for page in boto(moto_server.endpoint, "s3").get_paginator("list_objects_v2")
                .paginate(Bucket=bucket) for o in page.get("Contents", []) if not o["Key"].startswith("_tscloud/")}
        assert len(keys) == FILES

        proxy.clear()
        again = tscloud(project, proxy.endpoint, "--yes", "deploy")
        assert again.code == 0, again.output
        assert proxy.resource_writes() == []


def test_a_multipart_upload_cut_off_is_not_left_behind(moto_server: MotoServer, tmp_path: Path) -> None:
    from tscloud_py.build.sync import MULTIPART_THRESHOLD

    ensure_bucket(moto_server.endpoint)
    app = "resume-multipart"
    project = make_site(tmp_path / app, app)
    (project / "dist" / "video.mp4").write_bytes(os.urandom(MULTIPART_THRESHOLD + 1024))
    with AwsProxy(moto_server.endpoint) as proxy:
        # The parts are held at the proxy until the client is dead: its upload was started, never completed.
        proxy.hold(lambda method, path: method == "PUT" and path.endswith("/video.mp4"))
        proc = _deploy_process(project, proxy.endpoint)
        assert proxy.holding.wait(120), "no part was sent"
        proc.kill()
        proc.wait(timeout=60)
        proxy.release()
        _settled(proxy)
        bucket = next(r.path.split("/")[1] for r in proxy.requests() if r.api_operation == "CreateMultipartUpload")
        s3 = boto(moto_server.endpoint, "s3")
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), "the kill came after the upload completed"

        rerun = tscloud(project, proxy.endpoint, "--yes", "deploy")
        assert rerun.code == 0, rerun.output
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        assert s3.head_object(Bucket=bucket, Key="video.mp4")["ContentLength"] == MULTIPART_THRESHOLD + 1024
