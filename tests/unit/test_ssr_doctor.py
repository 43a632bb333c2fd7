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
    # from() sets the prelude on the stream it is given and returns that same stream: writing to
    # `responseStream` after `writer = from(responseStream)` is not a bug.
    ("raw-stream", []),
    # a buffered handler answers before Lambda waits for the event loop: the pool is not flagged.
    ("db-pool", []),
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


def copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / ".output"
    shutil.copytree(FIXTURES / name, dest)
    return dest


# Nitro 3.0.1-alpha.1's runtime as it ships (unminified, with the comment line inside the call).
ALPHA1_RUNTIME = """\
const nitroApp = useNitroApp();
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
\tconst request = awsRequest(event, context);
\tconst response = await nitroApp.fetch(request);
\tresponse.headers.set("transfer-encoding", "chunked");
\tconst httpResponseMetadata = {
\t\tstatusCode: response.status,
\t\t...awsResponseHeaders(response)
\t};
\tif (response.body) {
\t\tconst writer = awslambda.HttpResponseStream.from(
\t\t\t// @ts-expect-error TODO: IMPORTANT! It should be a Writable according to the aws-lambda types
\t\t\tresponseStream,
\t\t\thttpResponseMetadata
\t\t);
\t\tconst reader = response.body.getReader();
\t\tawait streamToNodeStream(reader, responseStream);
\t\twriter.end();
\t}
});
"""


def test_alpha1_streaming_runtime_is_recognised(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    (root / "server" / "chunks" / "nitro" / "nitro.mjs").write_text(ALPHA1_RUNTIME + "export { handler as h };\n")
    finding, pool = diagnose(read_nitro_build(root))
    assert pool.code == "event-loop-db-pool"  # the fixture traces pg, and nothing sets callbackWaits...
    assert finding.code == "nitro-streaming-runtime" and "3.0.1-alpha.1" in finding.title
    assert "runs to the function timeout" in finding.detail and "Headers are frozen" in finding.detail
    assert finding.file == "server/chunks/nitro/nitro.mjs"


def test_minified_alpha1_runtime(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    chunk = root / "server" / "chunks" / "nitro" / "nitro.mjs"
    chunk.write_text(
        'const h=awslambda.streamifyResponse(async(e,t,o)=>{const r=await n.fetch(q(e,o));'
        'r.headers.set("transfer-encoding","chunked");const m={statusCode:r.status};'
        'if(r.body){const s=awslambda.HttpResponseStream.from(t,m);await y(r.body.getReader(),t),s.end()}});'
        'export{h};')
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["nitro-streaming-runtime", "event-loop-db-pool"]
    chunk.write_text(
        'const h=awslambda.streamifyResponse(async(e,t,o)=>{o.callbackWaitsForEmptyEventLoop=!1;'
        'const r=await n.fetch(q(e,o));t=awslambda.HttpResponseStream.from(t,{statusCode:r.status});'
        't.write("");await p(R.fromWeb(r.body),t)});export{h};')
    assert diagnose(read_nitro_build(root)) == []


def test_wrapper_in_another_file_is_not_missing(tmp_path: Path) -> None:
    # Current Nitro and TanStack Start: streamifyResponse in index.mjs, from() in _libs/srvx.mjs.
    root = copy("clean", tmp_path)
    shutil.rmtree(root / "server" / "chunks")
    shutil.rmtree(root / "server" / "node_modules")
    (root / "server" / "index.mjs").write_text(
        'import { handleLambdaEventWithStream } from "./_libs/srvx.mjs";\n'
        "export const handler = awslambda.streamifyResponse((e, s, c) => handleLambdaEventWithStream(f, e, s, c));\n")
    (root / "server" / "_libs").mkdir()
    (root / "server" / "_libs" / "srvx.mjs").write_text(
        "export async function handleLambdaEventWithStream(f, e, s, c) {\n"
        "  const r = await f(e);\n  s = awslambda.HttpResponseStream.from(s, { statusCode: r.status });\n"
        "  s.end();\n}\n")
    assert diagnose(read_nitro_build(root)) == []


def test_streamified_without_wrapper(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    chunk = root / "server" / "chunks" / "nitro" / "nitro.mjs"
    chunk.write_text('const h = awslambda.streamifyResponse(async (e, s, c) => { '
                     'c.callbackWaitsForEmptyEventLoop = false; s.write("x"); s.end(); });\nexport { h };\n')
    (finding,) = diagnose(read_nitro_build(root))
    assert finding.code == "unwrapped-stream" and "never wraps" in finding.title


def test_unresolved_nitro_import(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    (root / "nitro.json").write_text('{"preset": "aws-lambda", "versions": {"nitro": "3.0.260903-beta"}, '
                                     '"config": {"awsLambda": {"streaming": true}}}')
    index = root / "server" / "index.mjs"
    index.write_text('import "#nitro-internal-pollyfills";\n' + index.read_text())
    (finding,) = diagnose(read_nitro_build(root))
    assert finding.code == "unresolved-nitro-import" and "#nitro/virtual/polyfills" in finding.detail


def test_buffered_build_with_streamed_handler(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    (root / "nitro.json").write_text('{"preset": "aws-lambda"}')
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["streaming-mismatch"]


def test_nitro_json_contradicts_itself(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    (root / "nitro.json").write_text('{"preset": "aws-lambda-streaming", "config": {"awsLambda": {"streaming": false}}}')
    assert [f.code for f in diagnose(read_nitro_build(root))] == ["streaming-mismatch"]


STREAMING_HANDLER = ('export const h = awslambda.streamifyResponse(async (e, s, c) => { '
                     's = awslambda.HttpResponseStream.from(s, {}); s.end(); });\n')


@pytest.mark.parametrize(("source", "label"), [
    ('import { PrismaClient } from "@prisma/client";\nconst p = new PrismaClient();\n', "prisma"),
    ('const mysql = require("mysql2/promise");\n', "mysql2"),
    ('import postgres from "postgres";\n', "postgres"),
    ('import Redis from "ioredis";\n', "ioredis"),
    ('import { MongoClient } from "mongodb";\n', "mongodb"),
    ('import { Pool } from "@neondatabase/serverless";\n', "@neondatabase/serverless"),
])
def test_db_pool_detected_in_streaming_bundle(tmp_path: Path, source: str, label: str) -> None:
    root = copy("clean", tmp_path)
    shutil.rmtree(root / "server" / "node_modules")
    (root / "server" / "chunks" / "nitro" / "nitro.mjs").write_text(STREAMING_HANDLER)
    (root / "server" / "chunks" / "nitro" / "app.mjs").write_text(source)
    (finding,) = diagnose(read_nitro_build(root))
    assert finding.code == "event-loop-db-pool" and label in finding.detail


def test_bundled_db_chunk_counts(tmp_path: Path) -> None:
    # Nitro 3 inlines pg into server/_libs/pg.mjs instead of tracing it into node_modules.
    root = copy("clean", tmp_path)
    shutil.rmtree(root / "server" / "node_modules")
    (root / "server" / "chunks" / "nitro" / "nitro.mjs").write_text(STREAMING_HANDLER)
    (root / "server" / "chunks" / "nitro" / "app.mjs").write_text("export const n = { fetch: () => null };\n")
    (root / "server" / "_libs").mkdir()
    (root / "server" / "_libs" / "pg.mjs").write_text("export const Pool = class {};\n")
    (finding,) = diagnose(read_nitro_build(root))
    assert finding.code == "event-loop-db-pool" and finding.file == "server/_libs/pg.mjs"


def test_buffered_db_pool_is_not_flagged(tmp_path: Path) -> None:
    assert codes("db-pool") == []


def test_no_db_no_event_loop_finding(tmp_path: Path) -> None:
    root = copy("clean", tmp_path)
    shutil.rmtree(root / "server" / "node_modules")
    (root / "server" / "chunks" / "nitro" / "nitro.mjs").write_text(STREAMING_HANDLER)
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
