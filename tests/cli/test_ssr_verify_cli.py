"""`tscloud ssr verify` against a moto server, a chunked local HTTP server, and REPORT lines in moto's logs."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "ssr-app"


class Chunked(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if "rid=" in self.path:  # as a Function URL does: the Lambda request id of the invocation
            self.send_header("x-amzn-RequestId", self.path.split("rid=", 1)[1])
        if self.path == "/buffered":
            body = b"<html>all at once</html>"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (b"<html>", b"<body>streamed</body>", b"</html>"):
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.flush()
            time.sleep(0.02)
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Chunked)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_verify(cli: Any, moto_server: Any, tmp_path: Path, site: str) -> None:
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app")
    base = ("--endpoint-url", moto_server.endpoint)
    assert cli(*base, "deploy", cwd=tmp_path / "app").code == 0
    logs = boto3.client("logs", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    group = "/aws/lambda/shop-dev-server"
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    now = int(time.time() * 1000)
    fast = "REPORT RequestId: 11111111-2222-3333-4444-555555555555\tDuration: 41.20 ms\tBilled Duration: 42 ms"
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": now - 2000, "message": "START RequestId: 11111111-2222-3333-4444-555555555555"},
        {"timestamp": now - 1000, "message": fast}])

    ok = cli(*base, "--output", "json", "ssr", "verify", "--url", f"{site}/", cwd=tmp_path / "app")
    assert ok.code == 0, ok.output
    checks = {c["check"]: c for c in ok.json()["checks"]}
    assert checks["invoke-mode"]["ok"] and "RESPONSE_STREAM" in checks["invoke-mode"]["detail"]
    assert checks["durations"]["ok"] and "1 recent invocations" in checks["durations"]["detail"]
    assert checks["probe-invocation"]["ok"]  # no request id: not a Lambda answering directly
    assert checks["probe"]["ok"] and "chunked" in checks["probe"]["detail"]

    buffered = cli(*base, "ssr", "verify", "--url", f"{site}/buffered", cwd=tmp_path / "app")
    assert buffered.code == 1 and "FAIL probe" in buffered.stdout

    # The probe's own invocation: a 10 s REPORT for a ~40 ms response is flagged; a clean one passes.
    slow_id, clean_id = "aaaaaaaa-2222-3333-4444-555555555555", "bbbbbbbb-2222-3333-4444-555555555555"
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": now - 500, "message": fast.replace("11111111", "aaaaaaaa").replace("41.20 ms", "10035.00 ms")},
        {"timestamp": now - 400, "message": fast.replace("11111111", "bbbbbbbb").replace("41.20 ms", "38.00 ms")}])
    slow = cli(*base, "--output", "json", "ssr", "verify", "--url", f"{site}/?rid={slow_id}", cwd=tmp_path / "app")
    assert slow.code == 1, slow.output
    invocation = {c["check"]: c for c in slow.json()["checks"]}["probe-invocation"]
    assert not invocation["ok"] and "REPORT duration 10,035 ms" in invocation["detail"]
    clean = cli(*base, "--output", "json", "ssr", "verify", "--url", f"{site}/?rid={clean_id}", cwd=tmp_path / "app")
    assert clean.code == 0, clean.output
    assert {c["check"]: c for c in clean.json()["checks"]}["probe-invocation"]["ok"]

    pinned = fast.replace("41.20 ms", "59800.00 ms")
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[{"timestamp": now, "message": pinned}])
    bad = cli(*base, "--output", "json", "ssr", "verify", "--no-probe", cwd=tmp_path / "app")
    assert bad.code == 1, bad.output
    durations = {c["check"]: c for c in bad.json()["checks"]}["durations"]
    assert not durations["ok"] and "1 of 4" in durations["detail"]


def test_verify_before_deploy(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app")
    result = cli("--endpoint-url", moto_server.endpoint, "ssr", "verify", "--no-probe", cwd=tmp_path / "app")
    assert result.code == 2 and "does not exist" in result.stderr, result.output


def test_verify_api_gateway_origin(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app")
    toml = tmp_path / "app" / "tscloud.toml"
    # a name of its own: another test's late log lines for shop-dev-server cannot reach this function's
    toml.write_text(toml.read_text().replace('app = "shop"', 'app = "ssrverifygw"', 1))
    toml.write_text(toml.read_text().replace('origin = "function-url"', 'origin = "api-gateway"'))
    base = ("--endpoint-url", moto_server.endpoint)
    assert cli(*base, "deploy", cwd=tmp_path / "app").code == 0
    result = cli(*base, "--output", "json", "ssr", "verify", "--no-probe", cwd=tmp_path / "app")
    assert result.code == 0, result.output
    checks = {c["check"]: c for c in result.json()["checks"]}
    assert checks["transfer-mode"]["ok"] and "streaming invocation URI" in checks["transfer-mode"]["detail"]
    assert "invoke-mode" not in checks
