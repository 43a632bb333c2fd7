"""`tscloud ssr doctor` static checks: fast pre-checks on a Nitro build's files (and `--static`).

The measured checks (the build run under AWS's runtime client) are in
``doctor_run``; these read the whole server bundle as one text (Nitro splits the
handler and its helpers across files), with comments stripped so minified and
unminified builds read alike:

- ``not-lambda-preset`` / ``missing-handler``: the build cannot run as ``index.handler``;
- ``streaming-mismatch``: tscloud.toml, nitro.json and the bundle disagree about streaming;
- ``unwrapped-stream``: the handler streams but never calls ``HttpResponseStream.from``, so
  status, headers and cookies are lost (from() sets the prelude on the stream it is given and
  returns that same stream: writing to either name is the same);
- ``nitro-streaming-runtime``: Nitro's built-in streaming runtime of 3.0.0 to 3.0.1-alpha.1, which
  sends nothing for a bodyless response (the invocation runs to its timeout) and sets
  transfer-encoding on frozen headers (routes returning a plain object throw);
- ``event-loop-db-pool``: a streaming handler with a DB client (pg, postgres, mysql2, prisma,
  drizzle, ioredis, mongodb, @neondatabase/serverless) and no
  ``callbackWaitsForEmptyEventLoop = false``: the pool's sockets hold each invocation open after
  its response (buffered handlers answer first, so they are not flagged);
- ``unresolved-nitro-import``: a ``#nitro...`` import left in the output (an entry file written for
  another Nitro version): Lambda's init fails with ERR_PACKAGE_IMPORT_NOT_DEFINED;
- ``entry-extension``: a Nitro ``entry`` with a file extension.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tscloud_py.build.entry_files import uses_old_polyfills
from tscloud_py.build.nitro import HANDLER_FILES, LAMBDA_PRESETS, NitroBuild

BUNDLE_SUFFIXES = (".mjs", ".js", ".cjs")
MAX_FILE_BYTES = 8 * 1024 * 1024
EJECT_HINT = ("`tscloud ssr eject-entry` writes entry files for your Nitro version; then set Nitro "
              "`entry: \"./src/nitro/aws-lambda-response\"` (no extension) and rebuild")
NO_WAIT_FIX = "set `context.callbackWaitsForEmptyEventLoop = false` first thing in the handler; " + EJECT_HINT

# DB client packages whose pools keep sockets (and so the event loop) open: {package: label}.
DB_PACKAGES = {
    "pg": "pg", "pg-pool": "pg", "postgres": "postgres", "mysql2": "mysql2", "drizzle-orm": "drizzle",
    "@prisma/client": "prisma", ".prisma": "prisma", "@neondatabase/serverless": "@neondatabase/serverless",
    "ioredis": "ioredis", "mongodb": "mongodb",
}
_DB_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*|\bimport\s+)["']"""
    r"""(pg|pg-pool|postgres|mysql2|drizzle-orm|@prisma/client|@neondatabase/serverless|ioredis|mongodb)"""
    r"""(?:/[^"']*)?["']"""
)
# The app's import of such a chunk: `import { esm_default } from "../_libs/pg.mjs"`.
_DB_LIB_IMPORT = re.compile(r"""["'](?:\.{1,2}/)*_libs/(pg|pg-pool|postgres|mysql2|ioredis|mongodb|drizzle-orm|"""
                            r"""neondatabase__serverless)(?:[+.@][^"']*)?\.m?js["']""")
# Bundlers inline a package into a chunk named after it (Nitro 3: server/_libs/pg.mjs, _libs/ioredis.mjs).
_DB_CHUNK = re.compile(r"(?:^|[/+])(pg|pg-pool|postgres|mysql2|ioredis|mongodb|drizzle-orm|neondatabase__serverless)"
                       r"(?:[+.@]|$)")
_DB_MARKERS = {"PrismaClient": "prisma", "drizzle-orm": "drizzle", "pg-pool": "pg", "mysql2/promise": "mysql2",
               "class Redis extends": "ioredis", "MongoClient": "mongodb", "neonConfig": "@neondatabase/serverless"}
_NO_WAIT = re.compile(r"callbackWaitsForEmptyEventLoop\s*=\s*(?:false|!1|0)\b")
_STREAMIFY = re.compile(r"\bstreamifyResponse\s*\(")
_WRAP = re.compile(r"HttpResponseStream\s*\.\s*from\s*\(")
# Nitro <= 3.0.1-alpha.1's streaming runtime: from() only inside `if (response.body) {...}`, and
# transfer-encoding set on the response's (possibly frozen) headers.
_WRAP_ONLY_WITH_BODY = re.compile(r"if\s*\(\s*[\w$]+\.body\s*\)\s*\{[^{}]*?HttpResponseStream\s*\.\s*from\s*\(")
_SET_TE = re.compile(r"""\.headers\.set\(\s*["']transfer-encoding["']""", re.IGNORECASE)
_NITRO_IMPORT = re.compile(r"""(?:\bimport\s*|\bfrom\s*|\bimport\(\s*)["'](#nitro[^"']*)["']""")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"(?m)(^|[\s;{}(,])//[^\n]*")
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
    line: int | None = None  # in ``file``, when the finding read a line of code

    @property
    def where(self) -> str | None:
        return f"{self.file}:{self.line}" if self.file and self.line else self.file

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    rel: str
    text: str  # comments stripped

    @property
    def vendored(self) -> bool:
        return "node_modules/" in self.rel

    def line_of(self, pattern: re.Pattern[str]) -> int | None:
        m = pattern.search(self.text)
        return None if m is None else self.text.count("\n", 0, m.start()) + 1


def strip_comments(text: str) -> str:
    """JS without block and line comments (a `//` inside a string such as a URL is kept); lines keep their numbers."""
    return _LINE_COMMENT.sub(r"\1", _BLOCK_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n") or " ", text))


def bundle_files(build: NitroBuild) -> Iterator[SourceFile]:
    """The server bundle's JS files (vendored node_modules included), in a stable order."""
    for path in sorted(build.server_dir.rglob("*")):
        if path.suffix in BUNDLE_SUFFIXES and path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
            rel = path.relative_to(build.root).as_posix()
            yield SourceFile(path, rel, strip_comments(path.read_text(encoding="utf-8", errors="replace")))


@dataclass(frozen=True)
class Bundle:
    """The server's own files (not node_modules), read as one."""

    files: list[SourceFile]

    @property
    def text(self) -> str:
        return "\n".join(f.text for f in self.files)

    def first(self, pattern: re.Pattern[str]) -> SourceFile | None:
        return next((f for f in self.files if pattern.search(f.text)), None)

    def locate(self, pattern: re.Pattern[str]) -> tuple[str | None, int | None]:
        """(file, line) of the first match of ``pattern``; (None, None) when nothing matches."""
        f = self.first(pattern)
        return (f.rel, f.line_of(pattern)) if f is not None else (None, None)


def nitro_version(build: NitroBuild) -> str | None:
    versions = build.meta.get("versions")
    version = versions.get("nitro") if isinstance(versions, dict) else None
    return version if isinstance(version, str) and version else None


def diagnose(build: NitroBuild, *, configured_streaming: bool | None = None,
             project_dir: Path | None = None) -> list[Finding]:
    """Every static finding for ``build``; ``project_dir`` (default: the build's parent) holds nitro/vite config."""
    bundle = Bundle([f for f in bundle_files(build) if not f.vendored])
    findings: list[Finding] = []
    findings += _check_preset(build)
    findings += _check_handler(build)
    findings += _check_streaming(build, bundle, configured_streaming)
    findings += _check_wrapper(build, bundle)
    findings += _check_nitro_imports(build, bundle)
    findings += _check_event_loop(build, bundle)
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


def _check_streaming(build: NitroBuild, bundle: Bundle, configured: bool | None) -> list[Finding]:
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
    if not build.is_lambda or not bundle.files:
        return found
    streamified = bundle.first(_STREAMIFY)
    if build.streaming and streamified is None:
        found.append(Finding(
            "streaming-mismatch", "nitro.json asks for streaming but the handler is not streamed",
            "no server file calls awslambda.streamifyResponse; with InvokeMode RESPONSE_STREAM the "
            "buffered handler's result is sent as the body",
            "a custom entry needs a -streaming variant (`<entry>-streaming.mjs`); " + EJECT_HINT))
    if not build.streaming and streamified is not None:
        found.append(Finding(
            "streaming-mismatch", "the handler streams but nitro.json does not",
            f"{streamified.rel} calls awslambda.streamifyResponse, but nitro.json builds a buffered "
            "handler, so the Function URL is deployed with InvokeMode BUFFERED",
            "set Nitro awsLambda: { streaming: true } and rebuild", *bundle.locate(_STREAMIFY)))
    return found


def _check_wrapper(build: NitroBuild, bundle: Bundle) -> list[Finding]:
    streamified = bundle.first(_STREAMIFY)
    if streamified is None:
        return []
    if bundle.first(_WRAP) is None:
        return [Finding(
            "unwrapped-stream", "the streaming handler never wraps the response stream",
            f"{streamified.rel} calls streamifyResponse but no server file calls "
            "awslambda.HttpResponseStream.from, so status, headers and cookies never reach the client",
            "send the prelude first: `responseStream = awslambda.HttpResponseStream.from(responseStream, "
            "{ statusCode, headers, cookies })`; " + EJECT_HINT, *bundle.locate(_STREAMIFY))]
    text = bundle.text
    bodyless = _WRAP_ONLY_WITH_BODY.search(text) is not None and len(_WRAP.findall(text)) == 1
    frozen = _SET_TE.search(text) is not None
    if not (bodyless or frozen):
        return []
    version = nitro_version(build)
    problems = []
    if bodyless:
        problems.append("a response without a body (204, a redirect) is never written or ended, so the "
                        "invocation runs to the function timeout and the client gets nothing")
    if frozen:
        problems.append("`response.headers.set(\"transfer-encoding\", ...)` throws \"Headers are frozen\" "
                        "for routes that return a plain object")
    known = f"Nitro {version}" if version else "this Nitro"
    return [Finding(
        "nitro-streaming-runtime", f"{known}'s built-in streaming runtime mishandles some responses",
        "; ".join(problems) + " (the aws-lambda streaming runtime of Nitro 3.0.0 to 3.0.1-alpha.1)",
        "upgrade Nitro (3.0.1-alpha.2 and later use srvx's Lambda adapter), or " + EJECT_HINT,
        *bundle.locate(_WRAP_ONLY_WITH_BODY if bodyless else _SET_TE))]


def _check_nitro_imports(build: NitroBuild, bundle: Bundle) -> list[Finding]:
    for f in bundle.files:
        m = _NITRO_IMPORT.search(f.text)
        if m is None:
            continue
        version = nitro_version(build)
        renamed = ""
        if m.group(1) == "#nitro-internal-pollyfills" and version and not uses_old_polyfills("nitro", version):
            renamed = f" (Nitro {version} calls it #nitro/virtual/polyfills; the old name was dropped in 3.0.1-alpha.2)"
        elif m.group(1) == "#nitro/virtual/polyfills" and version and uses_old_polyfills("nitro", version):
            renamed = f" (Nitro {version} calls it #nitro-internal-pollyfills)"
        return [Finding(
            "unresolved-nitro-import", "the output imports a Nitro virtual module the build did not resolve",
            f"{f.rel} still imports {m.group(1)!r}{renamed}: Lambda's init fails with "
            "ERR_PACKAGE_IMPORT_NOT_DEFINED",
            "re-run `tscloud ssr eject-entry --force` (it writes the import your Nitro ships) and rebuild", f.rel,
            f.line_of(_NITRO_IMPORT))]
    return []


@dataclass(frozen=True)
class Seen:
    """Where a DB client was seen: a line of the app's code that imports it, else its chunk or package dir."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def db_holders(build: NitroBuild, bundle: Bundle | None = None) -> dict[str, Seen]:
    """DB clients in the server: {label: where seen}; an import in the app's code first, as it names a line."""
    bundle = bundle or Bundle([f for f in bundle_files(build) if not f.vendored])
    found: dict[str, Seen] = {}
    libs = [f for f in bundle.files if "/_libs/" in f"/{f.rel}"]
    for f in [f for f in bundle.files if f not in libs]:
        for m in _DB_IMPORT.finditer(f.text):
            found.setdefault(DB_PACKAGES[m.group(1)], Seen(f.rel, f.text.count("\n", 0, m.start()) + 1))
        for m in _DB_LIB_IMPORT.finditer(f.text):
            found.setdefault(DB_PACKAGES.get(m.group(1), "@neondatabase/serverless"),
                             Seen(f.rel, f.text.count("\n", 0, m.start()) + 1))
    modules = build.server_dir / "node_modules"
    if modules.is_dir():
        for package, label in DB_PACKAGES.items():
            if (modules / package).is_dir():
                found.setdefault(label, Seen(f"server/node_modules/{package}"))
    for f in libs:
        chunk = _DB_CHUNK.search(Path(f.rel).stem)
        if chunk:
            found.setdefault(DB_PACKAGES.get(chunk.group(1), "@neondatabase/serverless"), Seen(f.rel))
    for f in bundle.files:
        for marker, label in _DB_MARKERS.items():
            at = f.text.find(marker)
            if at >= 0:
                found.setdefault(label, Seen(f.rel, f.text.count("\n", 0, at) + 1))
    return found


def _check_event_loop(build: NitroBuild, bundle: Bundle) -> list[Finding]:
    # A buffered handler's answer is returned before Lambda waits for the event loop: no pin to report.
    if not build.streaming or bundle.first(_STREAMIFY) is None:
        return []
    holders = db_holders(build, bundle)
    if not holders or bundle.first(_NO_WAIT) is not None:
        return []
    labels = sorted(holders)
    where = holders[labels[0]]
    return [Finding(
        "event-loop-db-pool", "a DB pool keeps the event loop alive after the response",
        f"the streaming handler uses {', '.join(labels)} (seen in {where}) and nothing sets "
        "context.callbackWaitsForEmptyEventLoop = false, so an invocation that used the pool lasts until "
        "the pool's idle sockets close (or the timeout), billed and holding the concurrency slot",
        NO_WAIT_FIX, where.file, where.line)]


def pin_possible(build: NitroBuild) -> bool:
    """Whether a pool's open sockets would hold this build's invocations: a streaming handler that does not set
    callbackWaitsForEmptyEventLoop = false."""
    bundle = Bundle([f for f in bundle_files(build) if not f.vendored])
    return build.streaming and bundle.first(_STREAMIFY) is not None and bundle.first(_NO_WAIT) is None


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
                "is true, so it looks for a file that does not exist and the build fails "
                "(`Could not resolve entry module`)",
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
