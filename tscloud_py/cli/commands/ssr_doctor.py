"""tscloud ssr doctor: run every route of a Nitro build under AWS's Lambda runtime client and explain what it saw."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.cli.commands.ssr import ssr, ssr_config

if TYPE_CHECKING:
    from tscloud_py.build.doctor import Finding
    from tscloud_py.build.doctor_run import RunResult
    from tscloud_py.build.nitro import NitroBuild
    from tscloud_py.build.routes import Discovery, Request
    from tscloud_py.operations.context import AppContext

MAX_DEFAULT_TIMEOUT_S = 15.0


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--static", "static_only", is_flag=True, help="Only read the files; do not run the handler.")
@click.option("--probe", "probes", multiple=True, metavar="[METHOD] PATH",
              help="Also send this request, e.g. '/users/42?tab=1' or 'POST /api/items' (repeatable).")
@click.option("--probe-bodyless", is_flag=True,
              help="Also send a request the Nitro app answers with a bodyless 204 (Nitro 3).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(1, 900), default=None,
              help="Seconds each invocation may run (default: [ssr] timeout, at most 15).")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE",
              help="Environment for the function, over [ssr.environment] and --env-file (repeatable).")
@click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="KEY=VALUE lines (a .env) for the function's environment (repeatable).")
@pass_app
def doctor(app: AppContext, directory: Path | None, static_only: bool, probes: tuple[str, ...],
           probe_bodyless: bool, timeout_s: float | None, env_pairs: tuple[str, ...],
           env_files: tuple[Path, ...]) -> None:
    """Run a Nitro build (default: [ssr] dir, else .output) under AWS's Lambda runtime client and explain it.

    Finds the build's routes (Nitro's route table, TanStack Start's router manifest; public/ files
    excluded) and sends each GET route, and every --probe, as a warm invocation after one cold
    start. Prints per request: status, first byte, response end, invocation end, the gap, and the
    pool packages (pg, mysql2, ioredis, ...) that connected. Installs the runtime client into
    tscloud's cache on first use; where it cannot, the static checks run alone.
    Exits 1 when it finds anything, 0 when the build is clean, 2 on bad input or when DIR is not a Nitro build.
    """
    from tscloud_py.build.doctor import diagnose, nitro_version
    from tscloud_py.build.nitro import DEFAULT_DIR, read_nitro_build
    from tscloud_py.build.routes import discover, parse_probe
    from tscloud_py.cli.ui import print_json
    from tscloud_py.config.dotenv import read_dotenv
    from tscloud_py.errors import UsageError

    config = ssr_config(app)
    configured: bool | None = None
    env: dict[str, str] = {}
    config_timeout: float | None = None
    if config is not None and config.ssr is not None:
        configured = config.ssr.streaming
        env.update({str(k): str(v) for k, v in (config.ssr.environment or {}).items()})
        config_timeout = float(config.ssr.timeout)
        if directory is None:
            directory = config.base_dir / config.ssr.dir
    for path in env_files:
        env.update(read_dotenv(path))
    for pair in env_pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env: expected KEY=VALUE, got {pair.split('=')[0]!r}")
        env[key] = value
    try:
        given = [parse_probe(p) for p in probes]
    except ValueError as exc:
        raise UsageError(f"--probe: {exc}") from None
    timeout = timeout_s if timeout_s is not None else min(config_timeout or MAX_DEFAULT_TIMEOUT_S,
                                                          MAX_DEFAULT_TIMEOUT_S)
    directory = directory if directory is not None else Path(DEFAULT_DIR)
    build = read_nitro_build(directory, shown=str(directory))
    project_dir = config.base_dir if config is not None else build.root.resolve().parent
    findings = diagnose(build, configured_streaming=configured, project_dir=project_dir)
    found = discover(build)
    requests = _requests(found, given)
    run, note = None, None
    if not static_only:
        run, note = _run_build(app, build, project_dir, requests, probe_bodyless, timeout, env)
    if run is not None:
        findings = _merge(build, findings, run, timeout)
    if app.json:
        doc: dict[str, Any] = {"dir": str(directory), "preset": build.preset, "streaming": build.streaming,
                               "nitro": nitro_version(build), "mode": "run" if run is not None else "static",
                               "ok": not findings, "findings": [f.to_json() for f in findings],
                               "routes": [{"route": r.pattern, "method": r.method, "source": r.source}
                                          for r in found.routes],
                               "not_probed": [{"route": r, "why": why} for r, why in found.skipped]}
        if note:
            doc["note"] = note
        if run is not None:
            worst = run.worst_gap
            doc.update({"init_ms": run.init_ms, "probes": [r.to_json() for r in run.rows],
                        "worst_gap": {"request": worst.label, "gap_ms": worst.gap_ms} if worst else None,
                        "connected": run.connected, "logs": run.logs[-50:]})
        print_json(doc)
    else:
        _print(str(directory), build, nitro_version(build), found, run, note, findings)
    if findings:
        raise SystemExit(1)


def _requests(found: Discovery, given: list[Request]) -> list[Request]:
    """The discovered GET routes, ``/`` first, then what --probe added (a route asked for twice runs once)."""
    discovered = sorted(found.requests, key=lambda r: r.path != "/")
    labels = {r.label for r in discovered}
    return discovered + [r for r in dict.fromkeys(given) if r.label not in labels]


def _run_build(app: AppContext, build: NitroBuild, project_dir: Path, requests: list[Request], bodyless: bool,
               timeout: float, env: dict[str, str]) -> tuple[RunResult | None, str | None]:
    """The measured run, or (None, why not) when node or the runtime client is missing and cannot be installed."""
    from tscloud_py.build.doctor_run import run_probes
    from tscloud_py.cli.ui import echo
    from tscloud_py.lambda_runtime import RuntimeClientMissingError, ensure_ric, find_node

    if not build.is_lambda or build.handler_file() is None:
        return None, "not run: the build has no Lambda handler (see the findings)"
    if find_node() is None:
        return None, "node is not on PATH, so the handler was not run: static checks only"
    try:
        ric = ensure_ric(project_dir, build.root, progress=lambda line: echo(line, err=True))
    except RuntimeClientMissingError as exc:
        return None, f"AWS's Lambda runtime client could not be installed ({exc.message}): static checks ran"
    return run_probes(build, requests, timeout_s=timeout, env=env, ric=ric, bodyless=bodyless), None


def _merge(build: NitroBuild, static: list[Finding], run: RunResult, timeout: float) -> list[Finding]:
    """The static findings with those the run measured: a probe's finding replaces the guess about the same path."""
    from tscloud_py.build.doctor_run import measured_findings

    measured = measured_findings(build, run, timeout_s=timeout)
    if run.init_error is not None:
        superseded = {"unresolved-nitro-import", "missing-handler"}
    else:
        # The pool guess becomes a measured pin, "at risk, not exercised", or nothing (connected, no pin).
        superseded = {"event-loop-db-pool"}
    if any(f.code in ("response-never-ends", "invocation-error") for f in measured):
        superseded.add("nitro-streaming-runtime")
    return [f for f in static if f.code not in superseded] + measured


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _print(shown: str, build: NitroBuild, version: str | None, found: Discovery, run: RunResult | None,
           note: str | None, findings: list[Finding]) -> None:
    from tscloud_py.cli.ui import echo

    echo(f"{shown}: preset {build.preset or '(none)'}, {'streaming' if build.streaming else 'buffered'}, "
         f"nitro {version or '?'}, handler index.handler, {len(found.routes)} route(s) in the build")
    if note:
        echo(f"  note: {note}")
    if run is not None:
        echo(f"  ran under aws-lambda-ric: init {_ms(run.init_ms)}" if run.init_error is None
             else "  ran under aws-lambda-ric: init failed")
        if run.rows:
            width = max(len(r.label) for r in run.rows)
            echo(f"  {'request':<{width}}  status  first byte  response end  invocation end       gap  connected")
            for r in run.rows:
                status = str(r.status) if r.status is not None else ("timeout" if r.timed_out else "error")
                echo(f"  {r.label:<{width}}  {status:>6}  {_ms(r.first_byte_ms):>10}  {_ms(r.response_end_ms):>12}  "
                     f"{_ms(r.end_ms):>14}  {_ms(r.gap_ms):>8}  {', '.join(r.connected) or '-'}")
            for r in run.rows:
                if r.pattern:
                    echo(f"  sampled: {r.path} stands for {r.pattern}")
            worst = run.worst_gap
            never = [r.label for r in run.rows if r.response_end_ms is None]
            echo(f"  worst gap: {f'{worst.label} {_ms(worst.gap_ms)}' if worst else '-'}"
                 + (f"; no response from {', '.join(never)}" if never else ""))
            pools = run.connected
            echo("  pool packages connected: " + ("; ".join(f"{k} ({', '.join(v)})" for k, v in sorted(pools.items()))
                                                 if pools else "none"))
    for route, why in found.skipped:
        echo(f"  not probed: {route} ({why})")
    for f in findings:
        echo(f"  [{f.code}] {f.title}" + (f" ({f.where})" if f.where else ""))
        echo(f"      {f.detail}")
        echo(f"      fix: {f.fix}")
    echo(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" if findings else "no findings")


def register(group: click.Group) -> None:
    """``doctor`` lives under ``tscloud ssr`` (registered after it)."""
    ssr.add_command(doctor)
