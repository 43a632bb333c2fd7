"""`tscloud ssr doctor`: find the known Lambda streaming bugs in a Nitro build.

Pure analysis of files on disk. Each finding names the bug, where it was seen,
and the fix. The checks come from builds that pinned every invocation at the
function timeout (20 s in the field report):

- ``streaming-mismatch``: the streaming setting in tscloud.toml, nitro.json and
  the server bundle disagree (a Function URL in RESPONSE_STREAM mode in front of
  a buffered handler, or the other way round);
- ``raw-response-stream``: the streaming runtime creates the
  ``awslambda.HttpResponseStream.from(...)`` wrapper but writes the body to the
  raw ``responseStream`` (Nitro 3.0.1-alpha.1), or never wraps it at all;
- ``event-loop-db-pool``: the bundle uses a DB pool (pg, postgres, mysql2,
  drizzle, prisma) and no handler sets ``callbackWaitsForEmptyEventLoop = false``,
  so Lambda waits for the pool's sockets until the timeout;
- ``entry-extension``: a Nitro ``entry`` with a file extension, so Nitro cannot
  append ``-streaming`` and silently uses the non-streaming entry;
- ``missing-handler``: the output has no ``index.*`` exporting ``handler``.
- ``not-lambda-preset``: the build was not made with an aws-lambda preset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tscloud_py.build.nitro import HANDLER_FILES, LAMBDA_PRESETS, NitroBuild

BUNDLE_SUFFIXES = (".mjs", ".js", ".cjs")
MAX_FILE_BYTES = 8 * 1024 * 1024
EJECT_HINT = ("`tscloud ssr eject-entry` writes correct entry files to src/nitro/; then set Nitro "
              "`entry: \"src/nitro/aws-lambda-response\"` (no extension)")

# DB client packages whose pools keep sockets (and so the event loop) open.
DB_PACKAGES = {
    "pg": "pg", "pg-pool": "pg", "postgres": "postgres", "mysql2": "mysql2", "drizzle-orm": "drizzle",
    "@prisma/client": "prisma", ".prisma": "prisma", "@neondatabase/serverless": "neon",
}
_DB_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*|\bimport\s+)["']"""
    r"""(pg|pg-pool|postgres|mysql2|drizzle-orm|@prisma/client|@neondatabase/serverless)(?:/[^"']*)?["']"""
)
_DB_MARKERS = {"PrismaClient": "prisma", "drizzle-orm": "drizzle", "pg-pool": "pg", "mysql2/promise": "mysql2"}
_NO_WAIT = re.compile(r"callbackWaitsForEmptyEventLoop\s*=\s*(?:false|!1|0)\b")
_STREAMIFY = re.compile(r"\bstreamifyResponse\s*\(")
_WRAP = re.compile(
    r"(?:(?:const|let|var)\s+)?([\w$]+)\s*=\s*(?:[\w$.]+\.)?HttpResponseStream\.from\(\s*([\w$]+)\s*[,)]")
_WRAP_ANY = re.compile(r"HttpResponseStream\.from\(")
_ENTRY = re.compile(r"""\bentry\s*:\s*["'`]([^"'`]+)["'`]""")
_CODE_EXT = re.compile(r"\.(?:mjs|cjs|js|mts|cts|ts|jsx|tsx)$")
PROJECT_CONFIGS = ("nitro.config.ts", "nitro.config.mts", "nitro.config.js", "nitro.config.mjs",
                   "vite.config.ts", "vite.config.mts", "vite.config.js", "vite.config.mjs",
                   "app.config.ts", "app.config.js")


@dataclass(frozen=True)
class Finding:
    code: str
    title: str
    detail: str
    fix: str
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    rel: str
    text: str

    @property
    def vendored(self) -> bool:
        return "node_modules/" in self.rel


def bundle_files(build: NitroBuild) -> Iterator[SourceFile]:
    """The server bundle's JS files (vendored node_modules included), in a stable order."""
    for path in sorted(build.server_dir.rglob("*")):
        if path.suffix in BUNDLE_SUFFIXES and path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
            rel = path.relative_to(build.root).as_posix()
            yield SourceFile(path, rel, path.read_text(encoding="utf-8", errors="replace"))


def diagnose(build: NitroBuild, *, configured_streaming: bool | None = None,
             project_dir: Path | None = None) -> list[Finding]:
    """Every finding for ``build``; ``project_dir`` (default: the build's parent) holds nitro/vite config."""
    files = [f for f in bundle_files(build) if not f.vendored]
    vendored_dirs = _vendored_packages(build)
    findings: list[Finding] = []
    findings += _check_preset(build)
    findings += _check_handler(build)
    findings += _check_streaming(build, files, configured_streaming)
    findings += _check_raw_stream(build, files)
    findings += _check_event_loop(files, vendored_dirs)
    findings += _check_entry(build, project_dir if project_dir is not None else build.root.parent)
    return findings


def _check_preset(build: NitroBuild) -> list[Finding]:
    if build.is_lambda:
        return []
    return [Finding(
        "not-lambda-preset", "the build is not for AWS Lambda",
        f"nitro.json preset is {build.preset or '(none)'!r}; expected one of {', '.join(LAMBDA_PRESETS)}",
        "set the Nitro preset to \"aws-lambda\" (with awsLambda: { streaming: true } to stream) and rebuild",
        "nitro.json")]


def _check_handler(build: NitroBuild) -> list[Finding]:
    path = build.handler_file()
    if path is None:
        return [Finding(
            "missing-handler", "no index.handler in the output",
            f"server/ has none of {', '.join(HANDLER_FILES)}, so Lambda cannot load handler index.handler",
            "build with the aws-lambda preset (it writes server/index.mjs exporting handler); "
            "a custom entry must `export const handler`", "server/")]
    if not build.exports_handler():
        rel = path.relative_to(build.root).as_posix()
        return [Finding(
            "missing-handler", "index.handler is not exported",
            f"{rel} does not export `handler`, so Lambda fails with Runtime.HandlerNotFound",
            "the Nitro entry must `export const handler = ...`; " + EJECT_HINT, rel)]
    return []


def _check_streaming(build: NitroBuild, files: list[SourceFile], configured: bool | None) -> list[Finding]:
    found: list[Finding] = []
    wanted = "streaming" if build.streaming else "buffered"
    if configured is not None and configured != build.streaming:
        said = "true" if configured else "false"
        found.append(Finding(
            "streaming-mismatch", "tscloud.toml and nitro.json disagree about streaming",
            f"[ssr] streaming = {said}, but nitro.json builds a {wanted} handler "
            f"(preset {build.preset!r}, awsLambda.streaming={build.configured_streaming})",
            f"either set [ssr] streaming = {'true' if build.streaming else 'false'} (or remove it), or set Nitro "
            f"awsLambda: {{ streaming: {said} }} and rebuild", "nitro.json"))
    if build.preset == "aws-lambda-streaming" and build.configured_streaming is False:
        found.append(Finding(
            "streaming-mismatch", "nitro.json contradicts itself",
            "preset is aws-lambda-streaming but config.awsLambda.streaming is false",
            "use preset \"aws-lambda\" with awsLambda: { streaming: true } (or false) and rebuild", "nitro.json"))
    if not build.is_lambda or not files:
        return found
    streamified = [f for f in files if _STREAMIFY.search(f.text)]
    if build.streaming and not streamified:
        found.append(Finding(
            "streaming-mismatch", "nitro.json asks for streaming but the handler is not streamed",
            "no server file calls awslambda.streamifyResponse; with InvokeMode RESPONSE_STREAM the "
            "buffered handler's result is sent as the body",
            "a custom entry needs a -streaming variant (`<entry>-streaming.mjs`); " + EJECT_HINT))
    if not build.streaming and streamified:
        found.append(Finding(
            "streaming-mismatch", "the handler streams but nitro.json does not",
            f"{streamified[0].rel} calls awslambda.streamifyResponse, but nitro.json builds a buffered "
            "handler, so the Function URL is deployed with InvokeMode BUFFERED",
            "set Nitro awsLambda: { streaming: true } and rebuild", streamified[0].rel))
    return found


def _check_raw_stream(build: NitroBuild, files: list[SourceFile]) -> list[Finding]:
    found: list[Finding] = []
    for f in files:
        if not _STREAMIFY.search(f.text) and not _WRAP_ANY.search(f.text):
            continue
        if _STREAMIFY.search(f.text) and not _WRAP_ANY.search(f.text):
            found.append(Finding(
                "raw-response-stream", "the streaming handler never wraps the response stream",
                f"{f.rel} calls streamifyResponse but not awslambda.HttpResponseStream.from, so status, "
                "headers and cookies are lost and the body goes to the raw stream",
                "wrap first: `responseStream = awslambda.HttpResponseStream.from(responseStream, "
                "{ statusCode, headers, cookies })`; " + EJECT_HINT, f.rel))
            continue
        for m in _WRAP.finditer(f.text):
            wrapper, raw = m.group(1), m.group(2)
            if wrapper == raw:
                continue
            after = f.text[m.end(): m.end() + 4000]
            r = re.escape(raw)
            raw_write = re.search(rf"(?<![\w$.]){r}\.write\(|,\s*{r}\s*\)|\.pipe\(\s*{r}\s*\)", after)
            if raw_write:
                line = f.text.count("\n", 0, m.end() + raw_write.start()) + 1
                found.append(Finding(
                    "raw-response-stream", "the body is written to the raw responseStream, not the wrapper",
                    f"{f.rel}:{line}: `{wrapper}` = HttpResponseStream.from({raw}, ...) but the body is "
                    f"written to `{raw}` (the Nitro 3.0.1-alpha.1 aws-lambda-streaming runtime bug): "
                    "responses buffer or hang until the timeout",
                    f"write to the wrapper: `await pipeline(Readable.fromWeb(response.body), {wrapper})`; "
                    + EJECT_HINT, f"{f.rel}:{line}"))
                break
    return found


def _vendored_packages(build: NitroBuild) -> dict[str, str]:
    """DB packages traced into server/node_modules: {package: label}."""
    found: dict[str, str] = {}
    modules = build.server_dir / "node_modules"
    if modules.is_dir():
        for package, label in DB_PACKAGES.items():
            if (modules / package).is_dir():
                found[package] = label
    return found


def _check_event_loop(files: list[SourceFile], vendored: dict[str, str]) -> list[Finding]:
    uses: dict[str, str] = {f"server/node_modules/{p}": label for p, label in vendored.items()}
    for f in files:
        for m in _DB_IMPORT.finditer(f.text):
            uses.setdefault(f.rel, DB_PACKAGES[m.group(1)])
        for marker, label in _DB_MARKERS.items():
            if marker in f.text:
                uses.setdefault(f.rel, label)
    if not uses or any(_NO_WAIT.search(f.text) for f in files):
        return []
    labels = sorted(set(uses.values()))
    where = sorted(uses)[0]
    return [Finding(
        "event-loop-db-pool", "a DB pool keeps the event loop alive",
        f"the server uses {', '.join(labels)} (seen in {where}) and no handler sets "
        "context.callbackWaitsForEmptyEventLoop = false, so every invocation runs until the timeout",
        "set `context.callbackWaitsForEmptyEventLoop = false` first thing in the handler; " + EJECT_HINT,
        where)]


def _check_entry(build: NitroBuild, project_dir: Path) -> list[Finding]:
    entries: list[tuple[str, str]] = []
    if build.entry:
        entries.append((build.entry, "nitro.json"))
    for name in PROJECT_CONFIGS:
        path = project_dir / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            scope = text if name.startswith("nitro.") else _nitro_blocks(text)
            entries += [(m.group(1), name) for m in _ENTRY.finditer(scope)]
    found: list[Finding] = []
    for entry, where in entries:
        if _CODE_EXT.search(entry):
            stem = _CODE_EXT.sub("", entry)
            stem = stem[: -len("-streaming")] if stem.endswith("-streaming") else stem
            found.append(Finding(
                "entry-extension", "the Nitro entry path has a file extension",
                f"entry {entry!r} ({where}): Nitro appends -streaming to the entry when awsLambda.streaming "
                "is true, which cannot work with an extension, so the streaming entry is never used",
                f"set entry: {stem!r} (no extension) and keep both {stem}.mjs and {stem}-streaming.mjs",
                where))
    return found


def _nitro_blocks(text: str) -> str:
    """The text of every ``nitro({...})`` call and ``nitro: {...}`` object in a vite/app config."""
    blocks: list[str] = []
    for m in re.finditer(r"\bnitro\s*(?:\(\s*|:\s*)\{", text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        blocks.append(text[m.end() - 1: i + 1])
    return "\n".join(blocks)
