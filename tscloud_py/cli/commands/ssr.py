"""tscloud ssr: doctor a Nitro build for the known Lambda streaming bugs, eject correct entry files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.build.doctor import Finding
    from tscloud_py.build.verify import Check
    from tscloud_py.config.schema import Config
    from tscloud_py.operations.context import AppContext


@click.group()
def ssr() -> None:
    """Server-rendered apps (TanStack Start / Nitro) on Lambda."""


def _ssr_config(app: AppContext) -> Config | None:
    """The loaded config when tscloud.toml exists and is an ssr-app; else None."""
    if not app.config_path.exists():
        return None
    config = app.config()
    return config if config.ssr is not None else None


@ssr.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--static", "static_only", is_flag=True, help="Only read the files; do not run the handler.")
@click.option("--probe", "probes", multiple=True, metavar="PATH", help="Also request PATH (repeatable).")
@click.option("--probe-bodyless", is_flag=True,
              help="Also send a request the Nitro app answers with a bodyless 204 (Nitro 3).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(1, 900), default=None,
              help="Seconds each invocation may run (default: [ssr] timeout, at most 15).")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE",
              help="Environment for the function, over [ssr.environment] (repeatable).")
@pass_app
def doctor(app: AppContext, directory: Path | None, static_only: bool, probes: tuple[str, ...],
           probe_bodyless: bool, timeout_s: float | None, env_pairs: tuple[str, ...]) -> None:
    """Run a Nitro build (default: [ssr] dir, else .output) under AWS's Lambda runtime client and explain it.

    Probes GET / (and --probe paths) and prints, per request: status, first byte, response end,
    invocation end and the gap. Without node or aws-lambda-ric it falls back to the static checks.
    Exits 1 when it finds anything, 0 when the build is clean, 2 when DIR is not a Nitro build.
    """
    from tscloud_py.build.doctor import diagnose, nitro_version
    from tscloud_py.build.nitro import DEFAULT_DIR, read_nitro_build
    from tscloud_py.cli.ui import print_json
    from tscloud_py.errors import UsageError

    config = _ssr_config(app)
    configured: bool | None = None
    env: dict[str, str] = {}
    config_timeout: float | None = None
    if config is not None and config.ssr is not None:
        configured = config.ssr.streaming
        env.update({str(k): str(v) for k, v in (config.ssr.environment or {}).items()})
        config_timeout = float(config.ssr.timeout)
        if directory is None:
            directory = config.base_dir / config.ssr.dir
    for pair in env_pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env: expected KEY=VALUE, got {pair!r}")
        env[key] = value
    bad = [p for p in probes if not p.startswith("/")]
    if bad:
        raise UsageError(f"--probe: expected a path starting with /, got {bad[0]!r}")
    timeout = timeout_s if timeout_s is not None else min(config_timeout or 15.0, 15.0)
    directory = directory if directory is not None else Path(DEFAULT_DIR)
    build = read_nitro_build(directory, shown=str(directory))
    project_dir = config.base_dir if config is not None else build.root.resolve().parent
    findings = diagnose(build, configured_streaming=configured, project_dir=project_dir)
    run, note = None, None
    if not static_only:
        run, note = _run_build(build, project_dir, probes, probe_bodyless, timeout, env)
    if run is not None:
        from tscloud_py.build.doctor_run import measured_findings

        measured = measured_findings(build, run, timeout_s=timeout)
        # What the run measured replaces the static guess about the same thing.
        superseded = {"event-loop-db-pool"} if run.init_error is None else set()
        if any(f.code in ("response-never-ends", "invocation-error") for f in measured):
            superseded.add("nitro-streaming-runtime")
        if run.init_error is not None:
            superseded |= {"unresolved-nitro-import", "missing-handler"}
        findings = [f for f in findings if f.code not in superseded] + measured
    if app.json:
        doc: dict[str, Any] = {"dir": str(directory), "preset": build.preset, "streaming": build.streaming,
                               "nitro": nitro_version(build), "mode": "run" if run is not None else "static",
                               "ok": not findings, "findings": [f.to_json() for f in findings]}
        if note:
            doc["note"] = note
        if run is not None:
            doc.update({"init_ms": run.init_ms, "probes": [r.to_json() for r in run.rows],
                        "logs": run.logs[-50:]})
        print_json(doc)
    else:
        _print_doctor(str(directory), build.preset, build.streaming, nitro_version(build), run, note, findings)
    if findings:
        raise SystemExit(1)


def _run_build(build: Any, project_dir: Path, probes: tuple[str, ...], bodyless: bool, timeout: float,
               env: dict[str, str]) -> tuple[Any, str | None]:
    """The measured run, or (None, why not) when node or the runtime client is missing."""
    from tscloud_py.build.doctor_run import Probe, run_probes
    from tscloud_py.lambda_runtime import RuntimeClientMissingError, find_node, find_ric

    if not build.is_lambda or build.handler_file() is None:
        return None, "not run: the build has no Lambda handler (see the findings)"
    if find_node() is None:
        return None, "node is not on PATH, so the handler was not run: static checks only"
    ric = find_ric(project_dir, build.root)
    if ric is None:
        return None, f"{RuntimeClientMissingError.default_hint}: static checks only"
    wanted = [Probe("/")] + [Probe(p) for p in dict.fromkeys(probes) if p != "/"]
    if bodyless:
        wanted.append(Probe("/", bodyless=True))
    return run_probes(build, wanted, timeout_s=timeout, env=env, ric=ric), None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _print_doctor(shown: str, preset: str, streaming: bool, version: str | None, run: Any, note: str | None,
                  findings: list[Finding]) -> None:
    from tscloud_py.cli.ui import echo

    echo(f"{shown}: preset {preset or '(none)'}, {'streaming' if streaming else 'buffered'}, "
         f"nitro {version or '?'}, handler index.handler")
    if note:
        echo(f"  note: {note}")
    if run is not None:
        echo(f"  ran under aws-lambda-ric: init {_ms(run.init_ms)}" if run.init_error is None
             else "  ran under aws-lambda-ric: init failed")
        if run.rows:
            width = max(len(r.label) for r in run.rows)
            echo(f"  {'request':<{width}}  status  first byte  response end  invocation end       gap")
            for r in run.rows:
                status = str(r.status) if r.status is not None else ("timeout" if r.timed_out else "error")
                echo(f"  {r.label:<{width}}  {status:>6}  {_ms(r.first_byte_ms):>10}  {_ms(r.response_end_ms):>12}  "
                     f"{_ms(r.end_ms):>14}  {_ms(r.gap_ms):>8}")
    for f in findings:
        echo(f"  [{f.code}] {f.title}")
        echo(f"      {f.detail}")
        echo(f"      fix: {f.fix}")
    echo(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" if findings else "no findings")


@ssr.command("eject-entry")
@click.option("--dir", "dest", type=click.Path(path_type=Path), default=Path("src/nitro"), show_default=True,
              help="Where to write the entry files (relative to the current directory).")
@click.option("--force", is_flag=True, help="Overwrite entry files that differ.")
@pass_app
def eject_entry(app: AppContext, dest: Path, force: bool) -> None:
    """Write streaming and non-streaming Nitro entry files for Lambda, for the Nitro this project uses."""
    from tscloud_py.build.entry_files import detect_flavor, eject, nitro_entry_setting
    from tscloud_py.build.nitro import DEFAULT_DIR, NotNitroBuildError, read_nitro_build
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.errors import UsageError

    project = Path.cwd()
    config = _ssr_config(app)
    build_dir = config.base_dir / config.ssr.dir if config is not None and config.ssr is not None \
        else project / DEFAULT_DIR
    try:
        build = read_nitro_build(build_dir)
    except NotNitroBuildError:
        build = None
    flavor = detect_flavor(project, build.meta if build is not None else None)
    if flavor is None:
        raise UsageError("eject-entry: no nitro or nitropack in ./node_modules or ./package.json",
                         "run it in the app's directory after `npm install`")
    streaming: bool | None = build.streaming if build is not None else (
        config.ssr.streaming if config is not None and config.ssr is not None else None)
    written = eject(dest, flavor, force=force)
    entry = nitro_entry_setting(dest, project)
    wants = "true" if streaming is not False else "false"
    line = f'nitro({{ preset: "aws-lambda", entry: "./{entry}", awsLambda: {{ streaming: {wants} }} }})'
    if app.json:
        print_json({"files": [{"path": str(e.path), "status": e.status} for e in written], "entry": entry,
                    "nitro": {"package": flavor.package, "version": flavor.version, "polyfills": flavor.polyfills},
                    "streaming": streaming, "config": line})
        return
    for e in written:
        echo(f"{e.status:<9} {e.path}")
    said = {True: "streaming (from the build's nitro.json)", False: "buffered (from the build's nitro.json)",
            None: "unknown (no build yet; the line below streams)"}[streaming]
    echo(f"detected: {flavor.label}; polyfills import {flavor.polyfills}; streaming: {said}")
    echo("add to your Nitro config (vite.config.ts plugins, or the same keys in nitro.config.ts):")
    echo(f"  {line}")
    echo("  (entry has no extension: Nitro appends -streaming itself); then rebuild and run `tscloud ssr doctor`.")


@ssr.command()
@click.option("--url", help="URL to probe (default: the deployed distribution; on the emulator, the local "
                            "Function URL `tscloud local serve` serves).")
@click.option("--no-probe", is_flag=True, help="Skip the HTTP probe.")
@click.option("--minutes", type=click.IntRange(1, 10080), default=60, show_default=True,
              help="How far back to read REPORT lines.")
@click.option("--report-wait", type=click.FloatRange(0, 900), default=15.0, show_default=True,
              help="Seconds to wait for the REPORT of the probe's own invocation.")
@pass_app
def verify(app: AppContext, url: str | None, no_probe: bool, minutes: int, report_wait: float) -> None:
    """Check a deployed ssr-app: InvokeMode, the probe's REPORT against its response time, recent durations.

    Exits 1 when a check fails.
    """
    import time

    from tscloud_py.aws.lambda_ import Lambda
    from tscloud_py.build.nitro import NotNitroBuildError, read_nitro_build
    from tscloud_py.build.verify import (
        Check,
        check_durations,
        check_invoke_mode,
        check_probe_invocation,
    )
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.errors import NotDeployedError, UsageError

    config = _ssr_config(app)
    if config is None or config.ssr is None:
        raise UsageError("ssr verify needs a tscloud.toml with preset = \"ssr-app\" and an [ssr] table")
    try:
        streaming = read_nitro_build(config.base_dir / config.ssr.dir).streaming
    except NotNitroBuildError:
        streaming = bool(config.ssr.streaming)
    factory = app.factory(config.region)
    recorded = _recorded_outputs(app)
    function = recorded.get("function", {}).get("function_name")
    if not function:
        raise NotDeployedError(f"{config.app}-{config.stage} has no recorded deploy: its server function does not "
                               f"exist in {factory.region} yet")
    lam = Lambda(factory)
    fn = lam.get_function(function)
    if fn is None:
        raise NotDeployedError(f"function {function} does not exist in {factory.region}")
    timeout = int(fn["Configuration"].get("Timeout") or config.ssr.timeout)
    checks: list[Check] = []
    url_config = None
    if config.ssr.origin == "function-url":
        url_config = lam.get_function_url_config(function)
        checks.append(check_invoke_mode(url_config.get("InvokeMode") if url_config else None, streaming)
                      if url_config else Check("invoke-mode", False, "the function has no Function URL",
                                               "run `tscloud deploy`"))
    else:
        checks.append(_api_transfer_mode(factory, function, streaming))
    start_ms = int((time.time() - minutes * 60) * 1000)
    if not no_probe:
        target = url or _default_probe_url(app, factory, url_config, recorded)
        probe_check, request_id, response_ms = _probe(target, streaming)
        checks.append(probe_check)
        if response_ms is not None:
            report, waited = _wait_for_report(factory, function, request_id, start_ms, report_wait)
            checks.append(check_probe_invocation(request_id, report, response_ms, waited))
    checks.insert(1, check_durations(_reports(factory, function, start_ms)[-50:], timeout))
    if app.json:
        print_json({"function": function, "streaming": streaming, "ok": all(c.ok for c in checks),
                    "checks": [c.to_json() for c in checks]})
    else:
        for c in checks:
            echo(f"{'ok  ' if c.ok else 'FAIL'} {c.check}: {c.detail}")
            if not c.ok and c.fix:
                echo(f"     fix: {c.fix}")
    if not all(c.ok for c in checks):
        raise SystemExit(1)


def _reports(factory: ClientFactory, function: str, start_ms: int) -> list[Any]:
    from tscloud_py.aws.logs import Logs
    from tscloud_py.aws.session import ignoring
    from tscloud_py.build.verify import parse_report

    reports = []
    with ignoring("ResourceNotFoundException"):
        for event in Logs(factory).events(f"/aws/lambda/{function}", start_ms=start_ms, filter_pattern="REPORT"):
            report = parse_report(str(event.get("message", "")))
            if report is not None:
                reports.append(report)
    return reports


def _wait_for_report(factory: ClientFactory, function: str, request_id: str | None, start_ms: int,
                     wait_s: float) -> tuple[Any, float]:
    """The REPORT of ``request_id``, polled until it appears or ``wait_s`` passes: (report or None, waited)."""
    import time

    began = time.monotonic()
    while request_id:
        found = next((r for r in _reports(factory, function, start_ms) if r.request_id == request_id), None)
        waited = time.monotonic() - began
        if found is not None or waited >= wait_s:
            return found, waited
        time.sleep(min(1.0, max(0.05, wait_s - waited)))
    return None, 0.0


def _default_probe_url(app: AppContext, factory: ClientFactory, url_config: dict[str, Any] | None,
                       recorded: dict[str, dict[str, Any]]) -> str:
    """On the emulator, the Function URL's loopback address (the distribution's domain resolves nowhere)."""
    from tscloud_py.errors import NotDeployedError

    endpoint = factory.endpoint_url
    if endpoint and _host_of(endpoint) in ("127.0.0.1", "localhost", "::1"):
        from tscloud_py.emulator.daemon import local_urls

        urls = local_urls(endpoint)
        aws_url = str(url_config.get("FunctionUrl") or "") if url_config else ""
        local = urls.function_url(aws_url) if urls is not None and aws_url else None
        if local is None:
            raise NotDeployedError("on the emulator, verify probes the Function URL that your emulator "
                                   "serves, and it serves none for this function",
                                   "deploy with --local (or --endpoint-url at `tscloud local serve`), or pass --url")
        return local
    return _deployed_url(recorded)


def _host_of(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).hostname or ""


def _api_transfer_mode(factory: ClientFactory, api_name: str, streaming: bool) -> Check:
    from tscloud_py.aws.apigateway import ApiGateway
    from tscloud_py.build.verify import Check, check_transfer_mode

    api = ApiGateway(factory)
    found = api.find_rest_api(api_name)
    if found is None:
        return Check("transfer-mode", False, f"no REST API named {api_name}", "run `tscloud deploy`")
    proxy = next((r for r in api.resources(found["id"]) if r.get("path") == "/{proxy+}"), None)
    return check_transfer_mode(api.get_integration(found["id"], proxy["id"], "ANY") if proxy else None, streaming)


def _recorded_outputs(app: AppContext) -> dict[str, dict[str, Any]]:
    """The journal's outputs: the names the last deploy gave what it made."""
    from tscloud_py.operations.workspace import Workspace

    return Workspace.open(app).journal.outputs()


def _deployed_url(recorded: dict[str, dict[str, Any]]) -> str:
    from tscloud_py.errors import NotDeployedError

    domain = recorded.get("distribution", {}).get("distribution_domain")
    if not domain:
        raise NotDeployedError("no deployed distribution recorded for this app and stage",
                               "run `tscloud deploy`, or pass --url")
    return f"https://{domain}/"


def _probe(url: str, streaming: bool) -> tuple[Check, str | None, float | None]:
    """GET ``url``, timing each piece of the body: (check, x-amzn-RequestId, response end in ms)."""
    import http.client
    import time
    from urllib.parse import urlparse

    from tscloud_py.build.verify import Check, ProbeTiming, check_transfer

    parsed = urlparse(url)
    conn_cls = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parsed.netloc, timeout=60)
    began = time.monotonic()
    try:
        conn.request("GET", (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else ""),
                     headers={"User-Agent": "tscloud-ssr-verify", "Accept": "text/html"})
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        chunk_ms: list[float] = []
        while resp.read1(65536):
            chunk_ms.append((time.monotonic() - began) * 1000)
        end_ms = (time.monotonic() - began) * 1000
        timing = ProbeTiming(chunk_ms[0] if chunk_ms else None, end_ms, tuple(chunk_ms))
        return check_transfer(resp.status, headers, timing, streaming), headers.get("x-amzn-requestid"), end_ms
    except OSError as exc:
        return Check("probe", False, f"GET {url} failed: {exc}", "check the URL, or pass --no-probe"), None, None
    finally:
        conn.close()


def register(group: click.Group) -> None:
    group.add_command(ssr)
