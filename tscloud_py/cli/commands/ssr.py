"""tscloud ssr: doctor a Nitro build for the known Lambda streaming bugs, eject correct entry files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.build.verify import Check
    from tscloud_py.config.schema import Config
    from tscloud_py.operations.context import AppContext


@click.group()
def ssr() -> None:
    """Server-rendered apps (TanStack Start / Nitro) on Lambda."""


def ssr_config(app: AppContext) -> Config | None:
    """The loaded config when tscloud.toml exists and is an ssr-app; else None."""
    if not app.config_path.exists():
        return None
    config = app.config()
    return config if config.ssr is not None else None


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
    config = ssr_config(app)
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
    """Check a deployed ssr-app: InvokeMode, each route's probe and its REPORT against its response time, recent durations.

    Without --url it probes every GET route of the local build (the routes `ssr doctor` finds) at the
    deployed URL. Exits 1 when a check fails.
    """
    import time

    from tscloud_py.aws.lambda_ import Lambda
    from tscloud_py.build.nitro import NotNitroBuildError, read_nitro_build
    from tscloud_py.build.routes import discover
    from tscloud_py.build.verify import (
        Check,
        check_durations,
        check_invoke_mode,
        check_probe_invocation,
    )
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.errors import NotDeployedError, UsageError

    config = ssr_config(app)
    if config is None or config.ssr is None:
        raise UsageError("ssr verify needs a tscloud.toml with preset = \"ssr-app\" and an [ssr] table")
    paths = ["/"]
    try:
        build = read_nitro_build(config.base_dir / config.ssr.dir)
        streaming = build.streaming
        paths = [r.path for r in sorted(discover(build).requests, key=lambda r: r.path != "/")]
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
        checks.append(_api_transfer_mode(factory, recorded.get("api", {}).get("api_id"), streaming))
    start_ms = int((time.time() - minutes * 60) * 1000)
    if not no_probe:
        targets = [url] if url else _route_urls(_default_probe_url(app, factory, url_config, recorded), paths)
        probed = [(target, *_probe(target, streaming)) for target in targets]
        checks += [probe_check for _, probe_check, _, _ in probed]
        ids = [request_id for _, _, request_id, response_ms in probed if request_id and response_ms is not None]
        reports, waited = _wait_for_reports(factory, function, ids, start_ms, report_wait)
        for target, _, request_id, response_ms in probed:
            if response_ms is not None:
                checks.append(check_probe_invocation(request_id, reports.get(request_id or ""), response_ms,
                                                     waited).about(_path_of(target)))
    checks.insert(1, check_durations(_reports(factory, function, start_ms)[-50:], timeout))
    if app.json:
        print_json({"function": function, "streaming": streaming, "ok": all(c.ok for c in checks),
                    "checks": [c.to_json() for c in checks]})
    else:
        for c in checks:
            echo(f"{'ok  ' if c.ok else 'FAIL'} {c.check}{f' {c.route}' if c.route else ''}: {c.detail}")
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


def _wait_for_reports(factory: ClientFactory, function: str, request_ids: list[str], start_ms: int,
                      wait_s: float) -> tuple[dict[str, Any], float]:
    """The REPORTs of ``request_ids``, polled until all appear or ``wait_s`` passes: ({id: report}, waited)."""
    import time

    began = time.monotonic()
    found: dict[str, Any] = {}
    while request_ids:
        found = {r.request_id: r for r in _reports(factory, function, start_ms) if r.request_id in request_ids}
        waited = time.monotonic() - began
        if len(found) == len(set(request_ids)) or waited >= wait_s:
            return found, waited
        time.sleep(min(1.0, max(0.05, wait_s - waited)))
    return found, 0.0


def _route_urls(base: str, paths: list[str]) -> list[str]:
    """``base`` (the deployed root) with each route path in place of its path."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    urls = []
    for path in paths:
        route, _, query = path.partition("?")
        urls.append(urlunsplit((parts.scheme, parts.netloc, route, query, "")))
    return urls


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


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


def _api_transfer_mode(factory: ClientFactory, api_id: str | None, streaming: bool) -> Check:
    """The REST API the last deploy recorded: its proxy integration's transfer mode."""
    from tscloud_py.aws.apigateway import ApiGateway
    from tscloud_py.build.verify import Check, check_transfer_mode

    api = ApiGateway(factory)
    if not api_id or api.get_rest_api(api_id) is None:
        shown = f"REST API {api_id} does not exist" if api_id else "no REST API is recorded for this deploy"
        return Check("transfer-mode", False, shown, "run `tscloud deploy`")
    proxy = next((r for r in api.resources(api_id) if r.get("path") == "/{proxy+}"), None)
    return check_transfer_mode(api.get_integration(api_id, proxy["id"], "ANY") if proxy else None, streaming)


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
        return (check_transfer(resp.status, headers, timing, streaming).about(_path_of(url)),
                headers.get("x-amzn-requestid"), end_ms)
    except OSError as exc:
        return (Check("probe", False, f"GET {url} failed: {exc}", "check the URL, or pass --no-probe",
                      _path_of(url)), None, None)
    finally:
        conn.close()


def register(group: click.Group) -> None:
    group.add_command(ssr)
