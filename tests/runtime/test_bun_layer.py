"""The Bun runtime layer end to end under real Bun (npm's release, installed by .ci/run): build the zip,
unpack it as Lambda does into a directory standing for /opt, and run its bootstrap as a ``provided.al2023``
function against tscloud's own Runtime API (tscloud_py.lambda_runtime), as the emulator does."""

from __future__ import annotations

import base64
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bun_support import HOST_ARCH
from tscloud_py.build.bun_layer import VERSION_FILE, build_bun_layer, elf_architecture
from tscloud_py.errors import UsageError
from tscloud_py.lambda_runtime import Invocation, ProvidedFunction

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
                                "x-trace": process.env._X_AMZN_TRACE_ID || "",
                                "x-runtime": typeof Bun === "object" ? `bun ${Bun.version}` : "not bun" });
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


def unpack(data: bytes, dest: Path) -> Path:
    """Unzip like Lambda: modes from the zip's external attributes."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod(stat.S_IMODE(info.external_attr >> 16))
    return dest


@pytest.fixture(scope="module")
def layer(bun_layer_zip: Path) -> bytes:
    return bun_layer_zip.read_bytes()


@pytest.fixture(scope="module")
def opt(layer: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(layer, tmp_path_factory.mktemp("opt"))


@pytest.fixture
def task(tmp_path: Path) -> Path:
    (tmp_path / "index.mjs").write_text(HANDLER)
    return tmp_path


@pytest.fixture
def function(opt: Path, task: Path) -> Iterator[ProvidedFunction]:
    with ProvidedFunction(task, "index.fetch", opt, timeout_s=10) as fn:
        yield fn


def result(inv: Invocation) -> Any:
    assert inv.error is None, inv.error
    return json.loads(inv.result or b"null")


def elf_stub(path: Path, machine: int) -> Path:
    """A minimal little-endian ELF header with this e_machine: bytes to package, never run."""
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 11 + machine.to_bytes(2, "little") + b"\0" * 40)
    path.chmod(0o755)
    return path


def test_layer_layout(layer: bytes, tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(layer)) as zf:
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in zf.infolist()}
        assert modes == {"bin/bun": 0o755, "bootstrap": 0o755, "tscloud-bun/runtime.mjs": 0o644}
        assert zf.read("bootstrap").startswith(b"#!/bin/sh")
        assert VERSION_FILE not in modes  # a binary given by path has no release recorded
    stub = elf_stub(tmp_path / "bun", 0xB7)
    assert build_bun_layer(stub, "arm64") == build_bun_layer(stub, "arm64")  # deterministic


def test_serves_http_events(function: ProvidedFunction) -> None:
    post = function.invoke(http_event("POST", "/items", query="a=1&b=2", cookies=["sid=abc", "theme=dark"],
                                      body=base64.b64encode(b"\x00hello").decode(), isBase64Encoded=True))
    answer = result(post)
    assert answer["statusCode"] == 201 and answer["isBase64Encoded"] is False
    assert answer["cookies"] == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    assert answer["headers"]["content-type"] == "application/json"
    assert answer["headers"]["x-request-id"] == post.request_id
    assert answer["headers"]["x-trace"].startswith("Root=1-")
    assert answer["headers"]["x-runtime"].startswith("bun ")  # real Bun, not a stand-in
    assert "set-cookie" not in answer["headers"]
    assert json.loads(answer["body"]) == {"url": "https://abc.lambda-url.us-east-1.on.aws/items?a=1&b=2",
                                          "method": "POST", "cookie": "sid=abc; theme=dark", "body": "\x00hello"}

    binary = result(function.invoke(http_event("GET", "/bin")))
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == bytes([0, 1, 2, 255])

    boom = function.invoke(http_event("GET", "/boom"))
    assert boom.error is not None and boom.error["errorType"] == "TypeError"
    assert boom.error["errorMessage"] == "kaboom" and isinstance(boom.error["stackTrace"], list)
    bad = function.invoke(http_event("GET", "/not-a-response"))
    assert bad.error is not None and "not a Response" in bad.error["errorMessage"]

    sqs = function.invoke({"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": "{}"}]})
    assert result(sqs) == {"batchItemFailures": [{"itemIdentifier": "m-1"}], "source": "aws:sqs"}
    # the loop keeps serving after an error, in the same process
    assert result(function.invoke(http_event("GET", "/after-error")))["statusCode"] == 201
    assert function.cold_starts == 1 and function.init_error is None
    assert function.init_ms is not None and function.init_ms > 0


def test_default_export_object(opt: Path, task: Path) -> None:
    with ProvidedFunction(task, "index.default", opt, timeout_s=10) as fn:
        assert result(fn.invoke(http_event("GET", "/x")))["statusCode"] == 201


@pytest.mark.parametrize(("handler", "error_type"), [
    ("missing.fetch", "Runtime.ImportModuleError"),
    ("index.nope", "Runtime.HandlerNotFound"),
    ("nodot", "Runtime.MalformedHandlerName"),
])
def test_init_errors(opt: Path, task: Path, handler: str, error_type: str) -> None:
    with ProvidedFunction(task, handler, opt, timeout_s=10) as fn:
        error = fn.warm()
        assert error is not None and error["errorType"] == error_type and error["errorMessage"]
        # the invocation fails with the init error, as Lambda answers it
        inv = fn.invoke(http_event("GET", "/never"))
        assert inv.error is not None and inv.error["errorType"] == error_type
        assert inv.result is None


def test_bun_binary_checks(tmp_path: Path, bun: Path) -> None:
    elf = elf_stub(tmp_path / "bun", 0xB7)
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    assert elf_architecture(elf) == "arm64" and elf_architecture(script) is None
    assert elf_architecture(bun) == HOST_ARCH
    assert build_bun_layer(elf, "arm64")
    with pytest.raises(UsageError, match="arm64 binary but --arch is x86_64"):
        build_bun_layer(elf, "x86_64")
    elf.chmod(0o644)
    with pytest.raises(UsageError, match="not executable"):
        build_bun_layer(elf, "arm64")
    with pytest.raises(UsageError, match="not a file"):
        build_bun_layer(tmp_path / "nope", "arm64")


def test_cli_build_and_publish(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    """The commands around the zip; what is in it and how it runs are the tests above (an ELF stub keeps
    this from compressing 100 MB four times)."""
    bun = elf_stub(tmp_path / "bun", 0x3E)
    moto_server.reset()
    out = tmp_path / "layer.zip"
    built = cli("--output", "json", "lambda", "bun-layer", "build", "--bun", str(bun), "--arch", "x86_64",
                "--out", str(out), cwd=tmp_path)
    assert built.code == 0, built.output
    assert built.json()["runtime"] == "provided.al2023" and out.read_bytes() == build_bun_layer(bun, "x86_64")
    args = ("--endpoint-url", moto_server.endpoint, "--output", "json", "lambda", "bun-layer", "publish",
            "--bun", str(bun), "--arch", "x86_64")
    first = cli(*args, cwd=tmp_path)
    assert first.code == 0, first.output
    assert first.json()["status"] == "published" and first.json()["arn"].endswith(":layer:tscloud-bun-x86-64:1")
    assert first.json()["runtimes"] == ["provided.al2023"] and first.json()["architectures"] == ["x86_64"]
    assert cli(*args, cwd=tmp_path).json()["status"] == "unchanged"
    missing = cli("lambda", "bun-layer", "build", "--bun", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.code == 2 and "--bun" in missing.stderr
    both = cli("lambda", "bun-layer", "build", "--bun", str(bun), "--bun-version", "1.4.4", cwd=tmp_path)
    assert both.code == 2 and "--bun and --bun-version" in both.stderr
    bad = cli("lambda", "bun-layer", "build", "--bun-version", "latest", cwd=tmp_path)
    assert bad.code == 2 and "--bun-version" in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bun", "layer.zip"]  # nothing written on bad input


def test_imports_what_node_options_names_before_the_handler(opt: Path, tmp_path: Path) -> None:
    """Bun reads no NODE_OPTIONS: the layer imports its --import modules itself (tscloud's secret resolver on
    a function that reads secrets), in order, relative to the task root, before the handler module runs."""
    (tmp_path / "_pre").mkdir()
    (tmp_path / "_pre" / "a.mjs").write_text('globalThis.seen = ["a"];\n')
    (tmp_path / "_pre" / "b.mjs").write_text('globalThis.seen.push("b"); process.env.FROM_PRELOAD = "yes";\n')
    (tmp_path / "index.mjs").write_text(
        "const atLoad = [...(globalThis.seen ?? [])];\n"
        "export async function fetch() { return Response.json({ atLoad, env: process.env.FROM_PRELOAD }); }\n")
    env = {"NODE_OPTIONS": "--enable-source-maps --import ./_pre/a.mjs --import=./_pre/b.mjs"}
    with ProvidedFunction(tmp_path, "index.fetch", opt, timeout_s=10, env=env) as fn:
        assert result(fn.invoke({"source": "test"})) == {"atLoad": ["a", "b"], "env": "yes"}
    with ProvidedFunction(tmp_path, "index.fetch", opt, timeout_s=10,
                          env={"NODE_OPTIONS": "--import ./_pre/missing.mjs"}) as fn:
        error = fn.warm()
        assert error is not None and error["errorType"] == "Runtime.ImportModuleError"
        assert "_pre/missing.mjs (NODE_OPTIONS --import)" in error["errorMessage"]
