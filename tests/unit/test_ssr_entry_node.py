"""The ejected Nitro entry files under the real `node` binary, with a stub `awslambda` global.

The streaming entry must send the body through the HttpResponseStream.from() wrapper, in more
than one chunk, with status, headers and cookies in the metadata; both entries must resolve while
a pooled socket is still open (callbackWaitsForEmptyEventLoop = false). The harness is checked
against the buggy Nitro 3.0.1-alpha.1 runtime shape too, so it can tell the difference.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tscloud_py.build.entry_files import BUFFERED, STREAMING, eject, template

HARNESS = Path(__file__).resolve().parent.parent / "fixtures" / "entry_harness"
NITRO = Path(__file__).resolve().parent.parent / "fixtures" / "nitro"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="needs the node binary")

URL_EVENT: dict[str, Any] = {
    "version": "2.0", "rawPath": "/page", "rawQueryString": "q=1&r=2", "cookies": ["sid=abc", "theme=dark"],
    "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "x-forwarded-host": "shop.example.com",
                "content-type": "text/plain"},
    "requestContext": {"http": {"method": "POST"}, "domainName": "abc.lambda-url.us-east-1.on.aws"},
    "body": base64.b64encode(b"hello body").decode(), "isBase64Encoded": True,
}
REST_EVENT: dict[str, Any] = {
    "httpMethod": "GET", "path": "/page", "headers": {"Host": "api.example.com"},
    "multiValueHeaders": {"Host": ["api.example.com"]},
    "multiValueQueryStringParameters": {"a": ["1", "2"]}, "body": None, "isBase64Encoded": False,
    "requestContext": {"domainName": "api.example.com"},
}


def stage(tmp_path: Path, name: str, text: str) -> Path:
    """Copy the harness next to ``text`` (saved as ``name``) with the Nitro virtual imports rewritten."""
    for f in HARNESS.iterdir():
        shutil.copy(f, tmp_path / f.name)
    text = text.replace('"#nitro-internal-pollyfills"', '"./polyfills.mjs"').replace('"nitro/app"', '"./nitro-app.mjs"')
    (tmp_path / name).write_text(text)
    return tmp_path / name


def run(tmp_path: Path, module: Path, export: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    assert NODE is not None
    proc = subprocess.run([NODE, str(tmp_path / "harness.mjs"), str(module), export, json.dumps(event)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout.splitlines()[-1])


def test_streaming_entry_writes_through_the_wrapper(tmp_path: Path) -> None:
    module = stage(tmp_path, STREAMING, template(STREAMING))
    code, out = run(tmp_path, module, "handler", URL_EVENT)
    assert code == 0, out
    assert out["streamed"] is True
    # the bytes arrive through the wrapper, in more than one chunk, and only through it
    assert "".join(c["data"] for c in out["wrapperChunks"]) == "<html><body>streamed</body></html>"
    assert len(out["wrapperChunks"]) > 1
    assert out["wrapperChunks"][-1]["at"] > out["wrapperChunks"][0]["at"]
    assert out["rawChunks"] == [] and out["wrapperEnded"] is True and out["rawEnded"] is True
    assert out["meta"] == {
        "statusCode": 201,
        "headers": {"content-type": "text/html; charset=utf-8", "x-app": "stub"},
        "cookies": ["a=1; Path=/", "b=2; Path=/; HttpOnly"],
    }
    # resolved while the pool's socket is open, because it told Lambda not to wait
    assert out["waitsForEmptyEventLoop"] is False and out["poolSocketOpen"] is True
    # the request: viewer host, query, cookies, base64 body, runtime hints on the same object
    assert out["seen"] == {"url": "https://shop.example.com/page?q=1&r=2", "method": "POST",
                           "cookie": "sid=abc; theme=dark", "runtime": "aws-lambda", "hasEvent": True,
                           "hasContext": True, "body": "hello body"}
    assert out["polyfilled"] is True


def test_streaming_entry_empty_body_and_rest_event(tmp_path: Path) -> None:
    module = stage(tmp_path, STREAMING, template(STREAMING))
    code, out = run(tmp_path, module, "handler", {**URL_EVENT, "rawPath": "/empty", "body": None})
    assert code == 0 and out["meta"]["statusCode"] == 204 and out["wrapperEnded"] and out["wrapperChunks"] == []
    code, out = run(tmp_path, module, "handler", REST_EVENT)
    assert code == 0
    assert out["seen"]["url"] == "https://api.example.com/page?a=1&a=2" and out["seen"]["method"] == "GET"
    assert out["meta"]["multiValueHeaders"] == {"set-cookie": ["a=1; Path=/", "b=2; Path=/; HttpOnly"]}
    assert "cookies" not in out["meta"]


def test_buffered_entry(tmp_path: Path) -> None:
    module = stage(tmp_path, BUFFERED, template(BUFFERED))
    code, out = run(tmp_path, module, "handler", URL_EVENT)
    assert code == 0, out
    assert out["streamed"] is False and out["poolSocketOpen"] is True and out["waitsForEmptyEventLoop"] is False
    assert out["result"] == {
        "statusCode": 201, "headers": {"content-type": "text/html; charset=utf-8", "x-app": "stub"},
        "cookies": ["a=1; Path=/", "b=2; Path=/; HttpOnly"], "body": "<html><body>streamed</body></html>",
        "isBase64Encoded": False}
    code, out = run(tmp_path, module, "handler", {**URL_EVENT, "rawPath": "/logo.png"})
    assert code == 0 and out["result"]["isBase64Encoded"] is True
    assert base64.b64decode(out["result"]["body"]) == bytes([0x89, 0x50, 0x4E, 0x47, 0, 255])


def test_harness_catches_the_nitro_raw_stream_bug(tmp_path: Path) -> None:
    """The buggy runtime from the doctor fixture: bytes bypass the wrapper."""
    buggy = (NITRO / "raw-stream" / "server" / "chunks" / "nitro" / "nitro.mjs").read_text()
    module = stage(tmp_path, "buggy.mjs", buggy)
    code, out = run(tmp_path, module, "h", URL_EVENT)
    assert code == 0
    assert out["wrapperChunks"] == [] and "".join(c["data"] for c in out["rawChunks"]).startswith("<html>")


def test_harness_catches_a_handler_that_waits_for_the_loop(tmp_path: Path) -> None:
    text = template(STREAMING).replace("if (context) context.callbackWaitsForEmptyEventLoop = false;", "")
    module = stage(tmp_path, STREAMING, text)
    code, out = run(tmp_path, module, "handler", URL_EVENT)
    assert code == 3 and out["waitsForEmptyEventLoop"] is True


def test_ejected_files_pass_the_doctor(tmp_path: Path) -> None:
    """A build bundling the ejected streaming entry (plus a pg pool) is clean."""
    from tscloud_py.build.doctor import diagnose
    from tscloud_py.build.nitro import read_nitro_build

    root = tmp_path / ".output"
    shutil.copytree(NITRO / "clean", root)
    written = eject(tmp_path / "src" / "nitro")
    assert [e.status for e in written] == ["written", "written"]
    (root / "server" / "chunks" / "nitro" / "nitro.mjs").write_text(
        template(STREAMING).replace('export const handler', 'const h') + "\nexport { h };\n")
    assert diagnose(read_nitro_build(root)) == []
    assert [e.status for e in eject(tmp_path / "src" / "nitro")] == ["unchanged", "unchanged"]
