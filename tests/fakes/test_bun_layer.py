"""The Bun runtime layer end to end: build the zip (Node stands in for Bun), unpack it like Lambda does
into /opt, run its bootstrap against a fake Runtime API, and check what is posted back."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.runtime_api import FakeRuntimeApi
from tscloud_py.build.bun_layer import build_bun_layer, elf_architecture
from tscloud_py.errors import UsageError

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node to stand in for bun")

HANDLER = """
export async function fetch(request, lambda) {
  const url = new URL(request.url);
  if (url.pathname === "/boom") throw new TypeError("kaboom");
  if (url.pathname === "/bin") {
    return new Response(new Uint8Array([0, 1, 2, 255]), { headers: { "content-type": "application/octet-stream" } });
  }
  if (url.pathname === "/_lambda/event") {
    const event = await request.json();
    return Response.json({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }],
                           source: request.headers.get("x-lambda-event-source") });
  }
  if (url.pathname === "/not-a-response") return { statusCode: 200 };
  const body = request.body ? await request.text() : null;
  const headers = new Headers({ "content-type": "application/json", "x-request-id": lambda.context.awsRequestId,
                                "x-trace": process.env._X_AMZN_TRACE_ID || "" });
  headers.append("set-cookie", "a=1; Path=/");
  headers.append("set-cookie", "b=2; Path=/; HttpOnly");
  return new Response(JSON.stringify({ url: request.url, method: request.method,
                                       cookie: request.headers.get("cookie"), body }), { status: 201, headers });
}
export default { fetch };
"""


def http_event(method: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": extra.pop("query", ""),
            "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "x-forwarded-proto": "https"},
            "requestContext": {"domainName": "abc.lambda-url.us-east-1.on.aws", "http": {"method": method,
                                                                                          "path": path}},
            "isBase64Encoded": False, **extra}


@pytest.fixture
def standin_bun(tmp_path: Path) -> Path:
    path = tmp_path / "fake-bun"
    path.write_text(f"#!/bin/sh\nexec {NODE} \"$@\"\n")
    path.chmod(0o755)
    return path


def unpack(data: bytes, dest: Path) -> Path:
    """Unzip like Lambda: modes from the zip's external attributes."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod(stat.S_IMODE(info.external_attr >> 16))
    return dest


@pytest.fixture
def api() -> Iterator[FakeRuntimeApi]:
    fake = FakeRuntimeApi().start()
    yield fake
    fake.stop()


def run_layer(tmp_path: Path, bun: Path, api: FakeRuntimeApi, handler: str) -> subprocess.Popen[str]:
    opt = unpack(build_bun_layer(bun, "arm64"), tmp_path / "opt")
    task = tmp_path / "task"
    task.mkdir(exist_ok=True)
    (task / "index.mjs").write_text(HANDLER)
    env = {"PATH": os.environ["PATH"], "AWS_LAMBDA_RUNTIME_API": api.address, "_HANDLER": handler,
           "LAMBDA_TASK_ROOT": str(task)}
    return subprocess.Popen([str(opt / "bootstrap")], env=env, cwd=task, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.kill()
    _, err = proc.communicate(timeout=10)
    return err


def test_layer_layout(standin_bun: Path) -> None:
    data = build_bun_layer(standin_bun, "x86_64")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in zf.infolist()}
        assert modes == {"bin/bun": 0o755, "bootstrap": 0o755, "tscloud-bun/runtime.mjs": 0o644}
        assert zf.read("bootstrap").startswith(b"#!/bin/sh")
    assert build_bun_layer(standin_bun, "x86_64") == data  # deterministic


def test_serves_http_events(tmp_path: Path, standin_bun: Path, api: FakeRuntimeApi) -> None:
    post_id = api.add_event(http_event("POST", "/items", query="a=1&b=2", cookies=["sid=abc", "theme=dark"],
                                       body=base64.b64encode(b"\x00hello").decode(), isBase64Encoded=True))
    bin_id = api.add_event(http_event("GET", "/bin"))
    boom_id = api.add_event(http_event("GET", "/boom"))
    bad_id = api.add_event(http_event("GET", "/not-a-response"))
    sqs_id = api.add_event({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": "{}"}]})
    after_id = api.add_event(http_event("GET", "/after-error"))
    proc = run_layer(tmp_path, standin_bun, api, "index.fetch")
    try:
        outcomes = {o.request_id: o for o in api.wait_for(6)}
    finally:
        err = stop(proc)
    assert len(outcomes) == 6, err

    post = outcomes[post_id]
    assert post.kind == "response"
    assert post.body["statusCode"] == 201 and post.body["isBase64Encoded"] is False
    assert post.body["cookies"] == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    assert post.body["headers"]["content-type"] == "application/json"
    assert post.body["headers"]["x-request-id"] == post_id
    assert post.body["headers"]["x-trace"].startswith("Root=1-")
    assert "set-cookie" not in post.body["headers"]
    assert json.loads(post.body["body"]) == {"url": "https://abc.lambda-url.us-east-1.on.aws/items?a=1&b=2",
                                             "method": "POST", "cookie": "sid=abc; theme=dark",
                                             "body": "\x00hello"}

    binary = outcomes[bin_id].body
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == bytes([0, 1, 2, 255])

    boom = outcomes[boom_id]
    assert boom.kind == "error" and boom.headers["lambda-runtime-function-error-type"] == "Unhandled"
    assert boom.body["errorType"] == "TypeError" and boom.body["errorMessage"] == "kaboom"
    assert isinstance(boom.body["stackTrace"], list)
    assert outcomes[bad_id].kind == "error" and "not a Response" in outcomes[bad_id].body["errorMessage"]

    assert outcomes[sqs_id].kind == "response"
    assert outcomes[sqs_id].body == {"batchItemFailures": [{"itemIdentifier": "m-1"}], "source": "aws:sqs"}
    # the loop keeps serving after an error
    assert outcomes[after_id].kind == "response" and outcomes[after_id].body["statusCode"] == 201
    assert api.init_errors == []


def test_default_export_object(tmp_path: Path, standin_bun: Path, api: FakeRuntimeApi) -> None:
    rid = api.add_event(http_event("GET", "/x"))
    proc = run_layer(tmp_path, standin_bun, api, "index.default")
    try:
        outcomes = api.wait_for(1)
    finally:
        err = stop(proc)
    assert [o.request_id for o in outcomes] == [rid], err
    assert outcomes[0].body["statusCode"] == 201


@pytest.mark.parametrize(("handler", "error_type"), [
    ("missing.fetch", "Runtime.ImportModuleError"),
    ("index.nope", "Runtime.HandlerNotFound"),
    ("nodot", "Runtime.MalformedHandlerName"),
])
def test_init_errors(tmp_path: Path, standin_bun: Path, api: FakeRuntimeApi, handler: str,
                     error_type: str) -> None:
    api.add_event(http_event("GET", "/never"))
    proc = run_layer(tmp_path, standin_bun, api, handler)
    code = proc.wait(timeout=20)
    assert code != 0
    ((headers, body),) = api.init_errors
    assert headers["lambda-runtime-function-error-type"] == error_type
    assert body["errorType"] == error_type and body["errorMessage"]
    assert api.handed_out == 0 and api.outcomes == []


def test_bun_binary_checks(tmp_path: Path, standin_bun: Path) -> None:
    elf = tmp_path / "bun"
    # a minimal little-endian ELF header with e_machine = aarch64
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 11 + (0xB7).to_bytes(2, "little") + b"\0" * 40)
    elf.chmod(0o755)
    assert elf_architecture(elf) == "arm64" and elf_architecture(standin_bun) is None
    assert build_bun_layer(elf, "arm64")
    with pytest.raises(UsageError, match="arm64 binary but --arch is x86_64"):
        build_bun_layer(elf, "x86_64")
    elf.chmod(0o644)
    with pytest.raises(UsageError, match="not executable"):
        build_bun_layer(elf, "arm64")
    with pytest.raises(UsageError, match="not a file"):
        build_bun_layer(tmp_path / "nope", "arm64")


def test_cli_build_and_publish(cli: Any, moto_server: Any, tmp_path: Path, standin_bun: Path) -> None:
    moto_server.reset()
    out = tmp_path / "layer.zip"
    built = cli("--output", "json", "lambda", "bun-layer", "build", "--bun", str(standin_bun), "--arch", "arm64",
                "--out", str(out), cwd=tmp_path)
    assert built.code == 0, built.output
    assert built.json()["runtime"] == "provided.al2023" and out.read_bytes() == build_bun_layer(standin_bun, "arm64")
    args = ("--endpoint-url", moto_server.endpoint, "--output", "json", "lambda", "bun-layer", "publish",
            "--bun", str(standin_bun))
    first = cli(*args, cwd=tmp_path)
    assert first.code == 0, first.output
    assert first.json()["status"] == "published" and first.json()["arn"].endswith(":layer:tscloud-bun-arm64:1")
    assert first.json()["runtimes"] == ["provided.al2023"] and first.json()["architectures"] == ["arm64"]
    assert cli(*args, cwd=tmp_path).json()["status"] == "unchanged"
    missing = cli("lambda", "bun-layer", "build", "--bun", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.code == 2 and "--bun" in missing.stderr
