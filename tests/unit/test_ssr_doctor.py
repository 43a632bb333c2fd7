"""`ssr doctor` analysis on the committed fixtures: each seeded bug is found, the fixed build is clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tscloud_py.build.doctor import diagnose
from tscloud_py.build.nitro import read_nitro_build

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nitro"


def codes(name: str, **kw: object) -> list[str]:
    build = read_nitro_build(FIXTURES / name)
    return [f.code for f in diagnose(build, project_dir=FIXTURES / name, **kw)]  # type: ignore[arg-type]


def test_clean_fixture_has_no_findings() -> None:
    assert codes("clean") == []
    assert codes("clean", configured_streaming=True) == []


@pytest.mark.parametrize(("fixture", "expected"), [
    ("raw-stream", ["raw-response-stream"]),
    ("db-pool", ["event-loop-db-pool"]),
    ("entry-extension", ["entry-extension"]),
    ("no-handler", ["missing-handler"]),
    ("streaming-mismatch", ["streaming-mismatch"]),
])
def test_each_seeded_bug_is_found(fixture: str, expected: list[str]) -> None:
    assert codes(fixture) == expected


def test_configured_streaming_contradicts_build() -> None:
    build = read_nitro_build(FIXTURES / "clean")
    (finding,) = diagnose(build, configured_streaming=False, project_dir=FIXTURES / "clean")
    assert finding.code == "streaming-mismatch"
    assert "[ssr] streaming = false" in finding.detail and "streaming = true" in finding.fix


def test_raw_stream_finding_points_at_the_line() -> None:
    build = read_nitro_build(FIXTURES / "raw-stream")
    (finding,) = diagnose(build)
    assert finding.file is not None and finding.file.startswith("server/chunks/nitro/nitro.mjs:")
    assert "`writer`" in finding.detail and "`responseStream`" in finding.detail
    assert "pipeline(Readable.fromWeb(response.body), writer)" in finding.fix


def copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / ".output"
    shutil.copytree(FIXTURES / name, dest)
    return dest


def test_minified_raw_stream(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    chunk = root / "server" / "chunks" / "nitro" / "nitro.mjs"
    chunk.write_text(
        'const h=awslambda.streamifyResponse(async(e,t,o)=>{o.callbackWaitsForEmptyEventLoop=!1;'
        'const r=await n.fetch(q(e,o)),s=awslambda.HttpResponseStream.from(t,{statusCode:r.status});'
        'await y(r.body.getReader(),t),s.end()});export{h};')
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["raw-response-stream"]
    chunk.write_text(
        'const h=awslambda.streamifyResponse(async(e,t,o)=>{o.callbackWaitsForEmptyEventLoop=!1;'
        'const r=await n.fetch(q(e,o)),s=awslambda.HttpResponseStream.from(t,{statusCode:r.status});'
        'await p(R.fromWeb(r.body),s)});export{h};')
    assert diagnose(read_nitro_build(root)) == []


def test_streamified_without_wrapper(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    chunk = root / "server" / "chunks" / "nitro" / "nitro.mjs"
    chunk.write_text('const h = awslambda.streamifyResponse(async (e, s, c) => { '
                     'c.callbackWaitsForEmptyEventLoop = false; s.write("x"); s.end(); });\nexport { h };\n')
    (finding,) = diagnose(read_nitro_build(root))
    assert finding.code == "raw-response-stream" and "never wraps" in finding.title


def test_buffered_build_with_streamed_handler(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    (root / "nitro.json").write_text('{"preset": "aws-lambda"}')
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["streaming-mismatch"]


def test_nitro_json_contradicts_itself(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    (root / "nitro.json").write_text('{"preset": "aws-lambda-streaming", "config": {"awsLambda": {"streaming": false}}}')
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["streaming-mismatch"]


@pytest.mark.parametrize("source", [
    'import { PrismaClient } from "@prisma/client";\nconst p = new PrismaClient();\n',
    'const mysql = require("mysql2/promise");\n',
    'import postgres from "postgres";\n',
])
def test_db_pool_detected_in_bundle(tmp_path: Path, source: str) -> None:
    root = copy("db-pool", tmp_path)
    shutil.rmtree(root / "server" / "node_modules")
    (root / "server" / "chunks" / "nitro" / "app.mjs").write_text(source)
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["event-loop-db-pool"]


def test_no_db_no_event_loop_finding(tmp_path: Path) -> None:
    root = copy("db-pool", tmp_path)
    shutil.rmtree(root / "server" / "node_modules")
    (root / "server" / "chunks" / "nitro" / "app.mjs").write_text("export const n = { fetch: () => null };\n")
    assert diagnose(read_nitro_build(root)) == []


def test_entry_extension_in_project_config(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    (tmp_path / "vite.config.ts").write_text(
        'export default defineConfig({\n  build: { lib: { entry: "src/main.ts" } },\n'
        '  plugins: [nitro({ preset: "aws-lambda", entry: "src/nitro/aws-lambda-response-streaming.mjs",\n'
        '    awsLambda: { streaming: true } })],\n});\n')
    (finding,) = diagnose(read_nitro_build(root))
    assert finding.code == "entry-extension" and finding.file == "vite.config.ts"
    assert "'src/nitro/aws-lambda-response'" in finding.fix
    (tmp_path / "vite.config.ts").write_text('nitro({ entry: "src/nitro/aws-lambda-response" })\n')
    assert diagnose(read_nitro_build(root)) == []


def test_non_lambda_preset(tmp_path: Path) -> None:
    root = copy("entry-extension", tmp_path)
    (root / "nitro.json").write_text('{"preset": "node-server"}')
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["not-lambda-preset"]


def test_missing_index(tmp_path: Path) -> None:
    root = copy("entry-extension", tmp_path)
    (root / "nitro.json").write_text('{"preset": "aws-lambda"}')
    (root / "server" / "index.mjs").unlink()
    (finding,) = diagnose(read_nitro_build(root))
    assert finding.code == "missing-handler" and finding.file == "server/"
