"""`tscloud ssr doctor`'s measured checks: run the build's handler under AWS's runtime client and probe it.

Each probe is one Function URL request (payload 2.0) to ``index.handler`` in the
build's ``server/``; the table row says what the runtime did: HTTP status, first
byte, response end, invocation end (when the runtime asked for its next event,
where Lambda's REPORT duration ends) and the gap between the last two. Findings
come from those figures, not from reading the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tscloud_py.build.doctor import (
    DB_PACKAGES,
    EJECT_HINT,
    NO_WAIT_FIX,
    Finding,
    db_holders,
    nitro_version,
    pin_possible,
)
from tscloud_py.build.nitro import NitroBuild
from tscloud_py.build.routes import Request
from tscloud_py.lambda_runtime import NodeFunction
from tscloud_py.lambda_runtime.events import function_url_event, response_head

PIN_GAP_MS = 1000.0
BODYLESS_HEADER = "x-tscloud-doctor-bodyless"
DATA = Path(__file__).resolve().parent.parent / "data" / "doctor"
BODYLESS_PRELOAD = DATA / "bodyless.mjs"
CONNECT_PRELOAD = DATA / "connections.mjs"
CONNECT_MARK = "tscloud-doctor:connect "
# The variable each pool package is usually configured with, for the command that exercises it.
POOL_ENV = {"ioredis": "REDIS_URL", "mongodb": "MONGODB_URI"}


@dataclass
class ProbeRow:
    method: str
    path: str
    status: int | None
    first_byte_ms: float | None
    response_end_ms: float | None
    end_ms: float | None
    gap_ms: float | None
    streaming: bool
    timed_out: bool
    error: dict[str, Any] | None
    location: str | None = None
    pattern: str | None = None  # the dynamic route this path samples
    given: bool = False  # asked for with --probe
    connected: list[str] = field(default_factory=list)  # pool packages that opened a connection

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def to_json(self) -> dict[str, Any]:
        return {"request": self.label, "route": self.pattern or self.path.split("?")[0],
                "sampled": self.pattern is not None, "given": self.given, "status": self.status,
                "first_byte_ms": self.first_byte_ms, "response_end_ms": self.response_end_ms,
                "invocation_end_ms": self.end_ms, "gap_ms": self.gap_ms, "streaming": self.streaming,
                "timed_out": self.timed_out,
                "error": {k: self.error.get(k) for k in ("errorType", "errorMessage")} if self.error else None,
                "location": self.location, "connected": self.connected}


@dataclass
class RunResult:
    init_ms: float | None
    init_error: dict[str, Any] | None
    rows: list[ProbeRow] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    @property
    def connected(self) -> dict[str, list[str]]:
        """{pool package: the requests during which it connected}."""
        found: dict[str, list[str]] = {}
        for row in self.rows:
            for label in row.connected:
                found.setdefault(label, []).append(row.label)
        return found

    @property
    def worst_gap(self) -> ProbeRow | None:
        gaps = [r for r in self.rows if r.gap_ms is not None]
        return max(gaps, key=lambda r: r.gap_ms or 0.0) if gaps else None


def run_probes(build: NitroBuild, requests: list[Request], *, timeout_s: float, env: Mapping[str, str],
               ric: Path | None = None, bodyless: bool = False) -> RunResult:
    """One cold start, then each request as a warm invocation of the build, in order.

    An invocation that runs to its timeout ends its environment (as on Lambda); the next request
    starts a new one first, so every probe is measured warm.
    """
    fn_env = dict(env)
    preloads = [CONNECT_PRELOAD] + ([BODYLESS_PRELOAD] if bodyless else [])
    imports = " ".join(f"--import={p.as_uri()}" for p in preloads)
    fn_env["NODE_OPTIONS"] = f"{fn_env.get('NODE_OPTIONS', '')} {imports}".strip()
    probes = [(r, False) for r in requests] + ([(Request("GET", "/"), True)] if bodyless else [])
    with NodeFunction(build.server_dir, build.handler, timeout_s=timeout_s, env=fn_env, ric=ric,
                      name="tscloud-doctor") as fn:
        init_error = fn.warm()
        result = RunResult(fn.init_ms, init_error)
        if init_error is None:
            for request, is_bodyless in probes:
                if fn.warm() is not None:
                    break
                result.rows.append(_probe(fn, request, is_bodyless))
        result.logs = [line for line in fn.logs if not line.startswith(CONNECT_MARK)]
    return result


def _probe(fn: NodeFunction, request: Request, bodyless: bool) -> ProbeRow:
    headers = [("accept", "text/html"), ("user-agent", "tscloud-ssr-doctor")]
    if bodyless:
        headers.append((BODYLESS_HEADER, "1"))
    path, _, query = request.path.partition("?")
    before = fn.log_lines
    inv = fn.invoke(function_url_event(request.method, path, query=query, headers=headers))
    status: int | None = None
    location: str | None = None
    if inv.response_end_at is not None or inv.prelude is not None or inv.result is not None:
        status, head = response_head(inv)
        location = next((v for k, v in head if k.lower() == "location"), None)
    connected = _connected(fn.logged_since(before))
    return ProbeRow(request.method, f"{request.path} (bodyless 204)" if bodyless else request.path, status,
                    inv.first_byte_ms, inv.response_end_ms, inv.end_ms, inv.gap_ms, inv.streaming,
                    inv.timed_out, inv.error, location, request.pattern, request.given, connected)


def _connected(lines: list[str]) -> list[str]:
    """The pool packages named by the connection preload's lines (other connections are not pools)."""
    found: list[str] = []
    for line in lines:
        if line.startswith(CONNECT_MARK):
            package = line[len(CONNECT_MARK):].split(" ", 1)[0]
            label = DB_PACKAGES.get(package) or DB_PACKAGES.get(package.replace("__", "/"))
            if label and label not in found:
                found.append(label)
    return found


def measured_findings(build: NitroBuild, run: RunResult, *, timeout_s: float) -> list[Finding]:
    version = nitro_version(build)
    nitro = f"Nitro {version}" if version else "this Nitro build"
    if run.init_error is not None:
        return [_init_finding(run.init_error, version)]
    found: list[Finding] = []
    never = [r for r in run.rows if r.response_end_ms is None]
    if never:
        labels = ", ".join(r.label for r in never)
        found.append(Finding(
            "response-never-ends", "a response never ends",
            f"{labels}: the handler sent no status and never ended the response, so the invocation ran to "
            f"its {timeout_s:g} s timeout (the client waits, then gets an error); {nitro}'s built-in streaming "
            "runtime does this for responses without a body (204, redirects)"
            if build.streaming else f"{labels}: the handler never returned within the {timeout_s:g} s timeout",
            "upgrade Nitro (3.0.1-alpha.2 and later end bodyless responses), or " + EJECT_HINT))
    errors = [r for r in run.rows if r.error is not None and not r.timed_out]
    for row in errors:
        assert row.error is not None
        message = str(row.error.get("errorMessage") or "")
        if "Headers are frozen" in message:
            found.append(Finding(
                "invocation-error", f"{row.label}: the runtime throws \"Headers are frozen\"",
                f"{nitro}'s streaming runtime calls response.headers.set(\"transfer-encoding\", ...) on the "
                "frozen headers of a route that returns a plain object; the invocation fails with "
                f"{row.error.get('errorType')}: {message}",
                "upgrade Nitro, or " + EJECT_HINT))
        else:
            found.append(Finding(
                "invocation-error", f"{row.label}: the invocation failed",
                f"{row.error.get('errorType')}: {message[:300]}",
                "see the function's output above (`--output json` carries it); fix the route or the entry"))
    pinned = [r for r in run.rows if r.gap_ms is not None and r.gap_ms > PIN_GAP_MS]
    if pinned:
        holders = db_holders(build)
        measured = sorted({label for r in pinned for label in r.connected})
        if measured:
            likely = "holder: the pool of " + ", ".join(
                f"{label} (connected during the request{'s' if len(pinned) > 1 else ''}; imported at "
                f"{holders[label]})" if label in holders else f"{label} (connected during the request)"
                for label in measured)
        elif holders:
            likely = ("likely holders: the DB pool of " + ", ".join(f"{k} ({v})" for k, v in sorted(holders.items()))
                      + "; or other open sockets (keep-alive agents, websockets) and timers (setInterval)")
        else:
            likely = "likely holders: open sockets (a DB or cache pool, keep-alive agents) or timers (setInterval)"
        worst = max(pinned, key=lambda r: r.gap_ms or 0.0)
        rows = "; ".join(f"{r.label}: response {r.response_end_ms:,.0f} ms, invocation {r.end_ms:,.0f} ms, "
                         f"gap {r.gap_ms:,.0f} ms" + (f", {', '.join(r.connected)} connected" if r.connected else "")
                         for r in pinned)
        found.append(Finding(
            "event-loop-pin", "invocations outlive their responses",
            f"{rows} ({len(pinned)} of {len(run.rows)} probes; worst gap {worst.gap_ms:,.0f} ms on {worst.label}): "
            f"Lambda waits for the event loop to empty before it ends the invocation; {likely}", NO_WAIT_FIX))
    found += _unexercised_pools(build, run)
    return found


def _unexercised_pools(build: NitroBuild, run: RunResult) -> list[Finding]:
    """Pools the build bundles that no probe connected: a risk the run could not measure, not a clean bill."""
    if not run.rows or not pin_possible(build):
        return []
    holders = db_holders(build)
    idle = sorted(label for label in holders if label not in run.connected)
    if not idle:
        return []
    where = holders[idle[0]]
    names = ", ".join(idle)
    env = " ".join(f"--env {var}=..." for var in dict.fromkeys(POOL_ENV.get(label, "DATABASE_URL") for label in idle))
    return [Finding(
        "db-pool-not-exercised", f"{names} pool: at risk, not exercised",
        f"the streaming handler bundles {names} (seen in {where}) and nothing sets "
        f"context.callbackWaitsForEmptyEventLoop = false, but none of the {len(run.rows)} probes connected it, "
        "so whether it holds invocations open after their responses was not measured",
        f"exercise it: `tscloud ssr doctor {env}` pointing at a dev database (or --env-file .env; add "
        f"--probe 'METHOD PATH' for the route that queries); or rule it out: {NO_WAIT_FIX}", where.file, where.line)]


def _init_finding(error: dict[str, Any], version: str | None) -> Finding:
    kind = str(error.get("errorType") or "")
    message = str(error.get("errorMessage") or "")
    if "ERR_PACKAGE_IMPORT_NOT_DEFINED" in message or ("#nitro" in message and "not defined" in message):
        which = next((w.strip("\"'") for w in message.split() if w.strip("\"'").startswith("#nitro")), "#nitro...")
        return Finding(
            "init-error", f"Lambda's init fails: the bundle imports {which}",
            f"ERR_PACKAGE_IMPORT_NOT_DEFINED: {kind}: {message[:300]} (Nitro {version or '?'} does not define "
            "it: an entry file written for another Nitro version; the polyfill import was renamed in 3.0.1-alpha.2)",
            "re-run `tscloud ssr eject-entry --force` (it writes the import your Nitro ships) and rebuild")
    if "HandlerNotFound" in kind or "is undefined or not exported" in message:
        return Finding("init-error", "Lambda's init fails: no index.handler", f"{kind}: {message[:300]}",
                       "the Nitro entry must `export const handler = ...`; " + EJECT_HINT)
    return Finding("init-error", "Lambda's init fails", f"{kind}: {message[:300]}",
                   "fix the error above; `--output json` carries the function's output")
