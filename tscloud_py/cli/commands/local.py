"""tscloud local serve|status|stop|logs: the per-user emulator and its local edge."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.emulator.edge.server import EdgeFleet, Served
    from tscloud_py.emulator.server import Emulator
    from tscloud_py.operations.context import AppContext

LOG_HELP = "Print one line per request the local edge serves: method, path, status, behavior, origin, ms."


@click.group()
def local() -> None:
    """The per-user AWS emulator that --local starts in the background, and its local edge."""


@local.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Listen here (default: this user's own stable port).")
@click.option("--log", "log_requests", is_flag=True, help=LOG_HELP)
@click.option("--background", is_flag=True, hidden=True)  # how --local starts it: output goes to its log file
@pass_app
def serve(app: AppContext, port: int | None, log_requests: bool, background: bool) -> None:
    """Run the emulator in the foreground (the same one --local starts in the background).

    Every CloudFront distribution and Function URL deployed to it is served on its own loopback port, as
    CloudFront would. Its state is kept across restarts (`tscloud local status` says where).
    """
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.emulator import daemon
    from tscloud_py.emulator.home import emulator_home, write_private
    from tscloud_py.emulator.server import Emulator
    from tscloud_py.operations.context import LOCAL_CREDENTIALS

    home = emulator_home()
    held = daemon.hold_running_lock(home)
    if held is None:
        found = daemon.running(home)
        where = f" at {found.endpoint} (pid {found.pid})" if found else ""
        raise click.UsageError(f"an emulator already runs for this user{where}; `tscloud local stop` stops it")
    write_private(home / "pid", str(os.getpid()).encode())  # whoever must stop it finds it before it answers
    emulator = Emulator(home, port=port)
    try:
        endpoint = emulator.start()
    except OSError as exc:
        raise click.UsageError(f"--port: cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    try:
        factory = ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS, region="us-east-1")
        announce = not app.json and not background
        if emulator.notice:
            echo(f"note: {emulator.notice}", err=True)
        if app.json:
            print_json({"endpoint": endpoint})
        elif announce:
            echo(f"emulator listening on {endpoint} (state kept in {home})")
            echo(f"  tscloud --local deploy    (or tscloud --endpoint-url {endpoint} deploy)")
            echo(f"  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --endpoint-url {endpoint} s3 ls")
            echo("each distribution deployed here is served below as CloudFront would; press Ctrl-C to stop")
        serve_edge(app, factory, emulator, log_requests=log_requests, announce=announce,
                   ready=lambda: daemon.announce(home, endpoint, emulator.started, emulator.notice))
    finally:
        emulator.stop()
        (home / daemon.STATE).unlink(missing_ok=True)
        os.close(held)
        if not app.json:
            echo("emulator stopped (its state is saved)", err=True)


def _function_urls(app: AppContext, announce: bool) -> None:
    """Print each Function URL's local address as it is created (nodejs functions run under aws-lambda-ric)."""
    from tscloud_py.cli.ui import echo
    from tscloud_py.emulator.lambda_ import invoke as local_invoke
    from tscloud_py.emulator.lambda_ import rest_api as local_rest_api

    def on_url(served: local_invoke.ServedUrl) -> None:
        if announce:
            echo(f"function URL {served.function_name} ({served.region}) -> {served.local_url}  [{served.aws_url}]",
                 err=app.json)

    def on_stage(served: local_rest_api.ServedStage) -> None:
        if announce:
            echo(f"REST API {served.api_id} stage {served.stage} ({served.region}) -> {served.local_url}",
                 err=app.json)

    local_invoke.FUNCTION_URLS.on_new(on_url)
    local_rest_api.STAGES.on_new(on_stage)


def serve_edge(app: AppContext, factory: ClientFactory, emulator: Emulator, *, log_requests: bool,
               announce: bool, ready: Any) -> None:
    """Serve every distribution the emulator holds (and any deployed later) until Ctrl-C or SIGTERM."""
    from tscloud_py.cli.ui import echo
    from tscloud_py.emulator.daemon import EDGE_LOG
    from tscloud_py.emulator.edge.server import PortBook, open_fleet
    from tscloud_py.emulator.home import write_private
    from tscloud_py.emulator.lambda_ import invoke as local_invoke

    write_private(emulator.home / EDGE_LOG, b"")  # this run's requests only: `deploy --serve --log` reads them
    edge_log = (emulator.home / EDGE_LOG).open("a")

    def on_new(served: Served) -> None:
        if announce:
            echo(describe_served(served), err=app.json)

    def on_log(line: Any) -> None:
        text = line.render()
        edge_log.write(text + "\n")
        edge_log.flush()
        if log_requests:
            echo(text)

    def on_error(exc: Exception) -> None:
        echo(f"local edge: cannot list distributions: {exc}", err=True)

    _function_urls(app, announce)
    fleet: EdgeFleet = open_fleet(factory, log=on_log, on_new=on_new,
                                  ports=PortBook(emulator.home / "edge-ports.json"))

    def edge_route(_environ: dict[str, Any]) -> dict[str, Any]:
        fleet.sync()
        return {"distributions": {s.id: {"url": s.url, "domain": s.domain} for s in fleet.served.values()},
                "function_urls": {s.aws_url: s.local_url for s in local_invoke.FUNCTION_URLS.served()}}

    emulator.admin_routes["edge"] = edge_route
    stopped = threading.Event()

    def stop(*_: object) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        fleet.sync()
        fleet.poll(on_error=on_error)
        ready()
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        fleet.close()
        edge_log.close()


def describe_served(served: Served) -> str:
    names = ", ".join((served.domain, *served.aliases))
    return f"distribution {served.id} {names} -> {served.url}"


def follow_edge(app: AppContext, *, log_requests: bool) -> None:
    """After `deploy --serve`: each distribution's local URL, then (with --log) the edge's requests as they
    come, until Ctrl-C or SIGTERM. The user's emulator serves them; this only watches."""
    from tscloud_py.cli.ui import echo
    from tscloud_py.emulator import daemon
    from tscloud_py.emulator.home import emulator_home

    endpoint = app.emulator_endpoint()
    home = emulator_home()
    for dist_id, served in sorted(daemon.admin(endpoint, "edge", home).get("distributions", {}).items()):
        echo(f"distribution {dist_id} {served['domain']} -> {served['url']}", err=app.json)
    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        with (home / daemon.EDGE_LOG).open() as log:
            log.seek(0, os.SEEK_END)
            while not stopped.wait(0.2):
                for line in log.readlines() if log_requests else ():
                    echo(line.rstrip("\n"))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@local.command()
@pass_app
def status(app: AppContext) -> None:
    """Whether this user's emulator runs: endpoint, pid, uptime, what is deployed in it and its local URLs."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.emulator import daemon
    from tscloud_py.emulator.home import emulator_home

    home = emulator_home()
    found = daemon.running(home)
    if found is None:
        doc: dict[str, Any] = {"running": False, "state": str(home)}
        if app.json:
            print_json(doc)
        else:
            echo(f"no emulator running (state kept in {home}); the next --local command starts it")
        return
    edge = daemon.admin(found.endpoint, "edge", home)
    apps = _deployed_apps(found.endpoint)
    doc = {"running": True, "endpoint": found.endpoint, "pid": found.pid,
           "uptime_seconds": round(time.time() - found.started), "state": str(home), "apps": apps,
           "distributions": edge.get("distributions", {}), "function_urls": edge.get("function_urls", {})}
    if app.json:
        print_json(doc)
        return
    echo(f"emulator {found.endpoint}  pid {found.pid}  up {_duration(doc['uptime_seconds'])}  state {home}")
    for name, stages in sorted(apps.items()):
        echo(f"  app {name}: {', '.join(stages)}")
    for dist_id, served in sorted(doc["distributions"].items()):
        echo(f"  distribution {dist_id} {served['domain']} -> {served['url']}")
    for aws_url, local_url in sorted(doc["function_urls"].items()):
        echo(f"  function URL {aws_url} -> {local_url}")


def _deployed_apps(endpoint: str) -> dict[str, list[str]]:
    """{app: [stage, ...]} with a journal in the emulator's state bucket (us-east-1, where --local deploys)."""
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.state_bucket import S3StateStore, default_bucket_name
    from tscloud_py.errors import TscloudError
    from tscloud_py.operations.context import LOCAL_CREDENTIALS

    factory = ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS, region="us-east-1")
    apps: dict[str, list[str]] = {}
    try:
        keys = S3StateStore(factory, default_bucket_name(factory.account_id(), factory.region), owned=True
                            ).keys("journals/")
    except TscloudError:
        return apps
    for key in keys:
        parts = key.removeprefix("journals/").removesuffix(".json").split("/")
        if len(parts) == 2:
            apps.setdefault(parts[0], []).append(parts[1])
    return apps


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


@local.command()
@pass_app
def stop(app: AppContext) -> None:
    """Stop this user's emulator; what is deployed in it is kept for the next start."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.emulator import daemon
    from tscloud_py.emulator.home import emulator_home

    home = emulator_home()
    stopped = daemon.stop(home)
    if app.json:
        print_json({"stopped": stopped is not None, "pid": stopped.pid if stopped else None, "state": str(home)})
    elif stopped is None:
        echo("no emulator running")
    else:
        echo(f"emulator stopped (pid {stopped.pid}); its state is kept in {home}")


@local.command()
@click.option("--lines", "-n", type=click.IntRange(1), default=50, show_default=True)
@click.option("--edge", is_flag=True, help="The local edge's request log instead of the emulator's own.")
@pass_app
def logs(app: AppContext, lines: int, edge: bool) -> None:
    """The last lines the background emulator wrote (or the requests its local edge served)."""
    from tscloud_py.cli.ui import echo
    from tscloud_py.emulator import daemon
    from tscloud_py.emulator.home import emulator_home

    path: Path = emulator_home() / (daemon.EDGE_LOG if edge else daemon.LOG)
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        echo(f"no log yet ({path})")
        return
    for line in text.splitlines()[-lines:]:
        echo(line)


def register(group: click.Group) -> None:
    group.add_command(local)
