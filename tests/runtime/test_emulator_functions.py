"""The emulator really invokes node functions: `tscloud local serve`, `--local deploy` of examples/ssr-app,
then its Function URL (printed by serve) streams the app, Invoke runs the code, REPORT lines land in the
function's log group, and `ssr verify` checks it all without --url."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import REPO, run_cli
from tests.realapps.pg_standin import PgStandIn

EXAMPLE = REPO / "examples" / "ssr-app"
URL_LINE = re.compile(r"^function URL (\S+) \((\S+)\) -> (http://127\.0\.0\.1:\d+/)  \[(https://\S+)\]$")
LISTENING_LINE = re.compile(r"^emulator listening on (http://\S+)")
STAGE_LINE = re.compile(r"^REST API (\S+) stage (\S+) \((\S+)\) -> (http://127\.0\.0\.1:\d+/)$")


@dataclass
class Served:
    project: Path
    endpoint: str
    urls: queue.Queue[re.Match[str]]
    stages: queue.Queue[re.Match[str]]
    env: dict[str, str]


@contextmanager
def _serve(project: Path, ric: Path) -> Iterator[Served]:
    """`tscloud local serve` in ``project``, its endpoint and each URL it prints, stopped by SIGTERM after."""
    env = {**os.environ, "CI": "1", "PYTHONPATH": str(REPO), "TSCLOUD_AWS_LAMBDA_RIC": str(ric)}
    proc = subprocess.Popen([sys.executable, "-m", "tscloud_py", "local", "serve"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    endpoint: queue.Queue[str] = queue.Queue()
    urls: queue.Queue[re.Match[str]] = queue.Queue()
    stages: queue.Queue[re.Match[str]] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            listening = LISTENING_LINE.match(line)
            if listening:
                endpoint.put(listening.group(1))
            match = URL_LINE.match(line)
            if match:
                urls.put(match)
            stage = STAGE_LINE.match(line)
            if stage:
                stages.put(stage)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield Served(project, endpoint.get(timeout=120), urls, stages, env)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, ric: Path) -> Iterator[Served]:
    project = tmp_path_factory.mktemp("emulator-fn") / "app"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".tscloud"))
    with _serve(project, ric) as served:
        yield served


def _get(url: str) -> tuple[int, dict[str, str], list[tuple[float, bytes]]]:
    """A GET like `curl -N`: every piece of the body with when it arrived."""
    import http.client
    from urllib.parse import urlparse

    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.netloc, timeout=60)
    began = time.monotonic()
    conn.request("GET", parsed.path or "/")
    resp = conn.getresponse()
    pieces = []
    while chunk := resp.read1(65536):
        pieces.append((time.monotonic() - began, chunk))
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, pieces


def test_function_url_streams_the_app_and_invoke_runs_it(served: Served) -> None:
    deployed = run_cli("--local", "--yes", "--output", "json", "deploy", cwd=served.project, env=served.env,
                       timeout=300)
    assert deployed.code == 0, deployed.output
    outputs = deployed.json()["outputs"]
    match = served.urls.get(timeout=60)
    assert match.group(1) == "shop-dev-server" and match.group(4).rstrip("/") == outputs["function_url"].rstrip("/")
    local_url = match.group(3)

    # curl, as a person would: the HTML, streamed (the page comes in three pieces 100 ms apart).
    curl = subprocess.run(["curl", "-sS", "-N", local_url], capture_output=True, text=True, timeout=60)
    assert curl.returncode == 0 and "<h1>Hello from" in curl.stdout and curl.stdout.rstrip().endswith("</html>")
    status, headers, pieces = _get(local_url)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["transfer-encoding"] == "chunked" and headers["x-amzn-requestid"]
    assert len(pieces) >= 2 and pieces[-1][0] - pieces[0][0] >= 0.1, [(round(t, 3), len(b)) for t, b in pieces]
    health_status, _, health = _get(local_url + "api/health")
    assert health_status == 200 and json.loads(b"".join(b for _, b in health)) == {"ok": True}

    lam = boto3.client("lambda", endpoint_url=served.endpoint, region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    event = {"version": "2.0", "rawPath": "/api/health", "rawQueryString": "", "headers": {"host": "x"},
             "requestContext": {"http": {"method": "GET"}, "domainName": "x"}}
    result = lam.invoke(FunctionName="shop-dev-server", Payload=json.dumps(event).encode())
    assert result["StatusCode"] == 200 and "FunctionError" not in result
    assert json.loads(result["Payload"].read()) == {"ok": True}

    logs = boto3.client("logs", endpoint_url=served.endpoint, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")
    deadline = time.monotonic() + 30
    reports: list[str] = []
    while time.monotonic() < deadline and len(reports) < 4:
        reports = [e["message"] for e in logs.filter_log_events(
            logGroupName="/aws/lambda/shop-dev-server", filterPattern="REPORT")["events"]]
        time.sleep(0.2)
    assert len(reports) >= 4 and all("Duration:" in r for r in reports)
    assert any(headers["x-amzn-requestid"] in r for r in reports)
    assert "Init Duration:" in reports[0]

    # ssr verify against the emulator, no --url: it probes the local Function URL and matches its REPORT.
    verify = run_cli("--local", "--output", "json", "ssr", "verify", cwd=served.project, env=served.env, timeout=120)
    assert verify.code == 0, verify.output
    checks: dict[str, Any] = {c["check"]: c for c in verify.json()["checks"]}
    assert checks["invoke-mode"]["ok"] and checks["probe"]["ok"] and checks["probe-invocation"]["ok"]
    assert "piece(s)" in checks["probe"]["detail"] and "REPORT duration" in checks["probe-invocation"]["detail"]


def test_rest_api_proxy_integration_invokes_the_function(served: Served, tmp_path: Path) -> None:
    project = tmp_path / "api-app"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('app = "shop"', 'app = "shopapi"')
                    .replace('origin = "function-url"', 'origin = "api-gateway"'))
    deployed = run_cli("--endpoint-url", served.endpoint, "--yes", "--output", "json", "deploy", cwd=project,
                       env=served.env, timeout=300)
    assert deployed.code == 0, deployed.output
    api_id = deployed.json()["outputs"]["api_id"]
    stage = served.stages.get(timeout=60)
    assert stage.group(1) == api_id
    status, headers, pieces = _get(stage.group(4) + "products/42")
    page = b"".join(b for _, b in pieces).decode()
    assert status == 200 and f"Hello from {api_id}.execute-api.us-east-1.amazonaws.com" in page
    assert headers["x-amzn-requestid"]
    # The streaming integration URI streams: the page's three pieces arrive apart.
    assert len(pieces) >= 2 and pieces[-1][0] - pieces[0][0] >= 0.1
    health_status, _, health = _get(stage.group(4) + "api/health")
    assert health_status == 200 and json.loads(b"".join(b for _, b in health)) == {"ok": True}


def test_verify_probes_every_route_of_the_build(realapp: Callable[..., Path], ric: Path, pg: PgStandIn,
                                                tmp_path: Path) -> None:
    """`ssr verify` finds the routes as `ssr doctor` does (from the build) and probes each at the deployed URL."""
    project = tmp_path / "routes-app"
    shutil.copytree(realapp("nitro-beta", ejected=True), project / ".output", symlinks=True)
    (project / "tscloud.toml").write_text(
        'app = "routes"\npreset = "ssr-app"\nregion = "us-east-1"\n[ssr]\ndir = ".output"\n'
        f'origin = "function-url"\ntimeout = 15\n[ssr.environment]\nDATABASE_URL = "{pg.url}"\n')
    with _serve(project, ric) as served:
        deployed = run_cli("--local", "--yes", "deploy", cwd=project, env=served.env, timeout=300)
        assert deployed.code == 0, deployed.output
        # Warm, as a visited site is: a cold start inside a one-piece page reads as a buffered stream.
        assert _get(served.urls.get(timeout=60).group(3))[0] == 200
        verify = run_cli("--local", "--output", "json", "ssr", "verify", cwd=project, env=served.env, timeout=180)
    assert verify.code == 0, verify.output
    checks = verify.json()["checks"]
    probed = [c["route"] for c in checks if c["check"] == "probe"]
    assert probed == ["/", "/cookie", "/db", "/empty", "/object", "/redirect", "/stream"]
    assert [c["route"] for c in checks if c["check"] == "probe-invocation"] == probed
    assert all(c["ok"] for c in checks), checks
