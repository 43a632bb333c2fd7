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

from tscloud_py.build.doctor import EJECT_HINT, NO_WAIT_FIX, Finding, db_holders, nitro_version
from tscloud_py.build.nitro import NitroBuild
from tscloud_py.lambda_runtime import NodeFunction
from tscloud_py.lambda_runtime.events import function_url_event, response_head

PIN_GAP_MS = 1000.0
BODYLESS_HEADER = "x-tscloud-doctor-bodyless"
BODYLESS_PRELOAD = Path(__file__).resolve().parent.parent / "data" / "doctor" / "bodyless.mjs"


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

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def to_json(self) -> dict[str, Any]:
        return {"request": self.label, "status": self.status, "first_byte_ms": self.first_byte_ms,
                "response_end_ms": self.response_end_ms, "invocation_end_ms": self.end_ms, "gap_ms": self.gap_ms,
                "streaming": self.streaming, "timed_out": self.timed_out,
                "error": {k: self.error.get(k) for k in ("errorType", "errorMessage")} if self.error else None,
                "location": self.location}


@dataclass
class RunResult:
    init_ms: float | None
    init_error: dict[str, Any] | None
    rows: list[ProbeRow] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Probe:
    path: str
    bodyless: bool = False


def run_probes(build: NitroBuild, probes: list[Probe], *, timeout_s: float, env: Mapping[str, str],
               ric: Path | None = None) -> RunResult:
    """Invoke the build once per probe, in order, in one execution environment (cold, then warm)."""
    fn_env = dict(env)
    if any(p.bodyless for p in probes):
        fn_env["NODE_OPTIONS"] = f"{fn_env.get('NODE_OPTIONS', '')} --import={BODYLESS_PRELOAD.as_uri()}".strip()
    with NodeFunction(build.server_dir, build.handler, timeout_s=timeout_s, env=fn_env, ric=ric,
                      name="tscloud-doctor") as fn:
        init_error = fn.warm()
        result = RunResult(fn.init_ms, init_error)
        if init_error is None:
            for probe in probes:
                headers = [("accept", "text/html"), ("user-agent", "tscloud-ssr-doctor")]
                if probe.bodyless:
                    headers.append((BODYLESS_HEADER, "1"))
                inv = fn.invoke(function_url_event("GET", probe.path, headers=headers))
                status: int | None = None
                location: str | None = None
                if inv.response_end_at is not None or inv.prelude is not None or inv.result is not None:
                    status, head = response_head(inv)
                    location = next((v for k, v in head if k.lower() == "location"), None)
                label = f"{probe.path} (bodyless 204)" if probe.bodyless else probe.path
                result.rows.append(ProbeRow("GET", label, status, inv.first_byte_ms, inv.response_end_ms,
                                            inv.end_ms, inv.gap_ms, inv.streaming, inv.timed_out, inv.error,
                                            location))
        result.logs = list(fn.logs)
    return result


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
    pinned = [r for r in run.rows if r.response_end_ms is not None and r.end_ms is not None
              and r.end_ms - r.response_end_ms > PIN_GAP_MS]
    if pinned:
        holders = db_holders(build)
        named = ", ".join(f"{label} ({where})" for label, where in sorted(holders.items()))
        likely = (f"likely holders: the DB pool of {named}; or other open sockets (keep-alive agents, "
                  "websockets) and timers (setInterval)" if holders else
                  "likely holders: open sockets (a DB or cache pool, keep-alive agents) or timers (setInterval)")
        worst = max(pinned, key=lambda r: (r.end_ms or 0) - (r.response_end_ms or 0))
        rows = "; ".join(f"{r.label}: response {r.response_end_ms:.0f} ms, invocation {r.end_ms:.0f} ms"
                         for r in pinned)
        found.append(Finding(
            "event-loop-pin", "invocations outlive their responses",
            f"{rows} ({len(pinned)} of {len(run.rows)} probes; worst gap "
            f"{(worst.end_ms or 0) - (worst.response_end_ms or 0):.0f} ms): Lambda waits for the event loop "
            f"to empty before it ends the invocation; {likely}", NO_WAIT_FIX))
    return found


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
