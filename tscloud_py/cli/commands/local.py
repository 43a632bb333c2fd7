"""tscloud local serve: keep an embedded emulator running on loopback, each distribution served by the local edge."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.emulator.edge.server import EdgeFleet, Served
    from tscloud_py.operations.context import AppContext

LOG_HELP = "Print one line per request the local edge serves: method, path, status, behavior, origin, ms."


@click.group()
def local() -> None:
    """The embedded AWS emulator and its local edge."""


@local.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--log", "log_requests", is_flag=True, help=LOG_HELP)
@pass_app
def serve(app: AppContext, port: int, log_requests: bool) -> None:
    """Keep an emulator running; deploy to it with --endpoint-url (or --local from this directory).

    Every CloudFront distribution deployed to it is served on its own loopback port, as CloudFront would.
    """
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.emulator.server import (
        Emulator,
        endpoint_file,
        function_urls_file,
        write_endpoint,
    )
    from tscloud_py.operations.context import LOCAL_CREDENTIALS

    emulator = Emulator(port=port)
    try:
        endpoint = emulator.start()
    except OSError as exc:
        raise click.UsageError(f"--port: cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    write_endpoint(app.project_dir, endpoint)
    if app.json:
        print_json({"endpoint": endpoint})
    else:
        echo(f"emulator listening on {endpoint}")
        echo(f"  tscloud --endpoint-url {endpoint} deploy")
        echo(f"  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws --endpoint-url {endpoint} s3 ls")
        echo("each distribution deployed here is served below as CloudFront would; press Ctrl-C to stop")
    factory = ClientFactory(endpoint_url=endpoint, credentials=LOCAL_CREDENTIALS, region="us-east-1")
    try:
        serve_edge(app, factory, log_requests=log_requests, announce=not app.json)
    finally:
        emulator.stop()
        with contextlib.suppress(OSError):
            endpoint_file(app.project_dir).unlink()
        with contextlib.suppress(OSError):
            function_urls_file(app.project_dir).unlink()
        if not app.json:
            echo("emulator stopped", err=True)


def _announce_function_urls(app: AppContext, announce: bool) -> None:
    """Print each Function URL's local address as it is created (nodejs functions run under aws-lambda-ric)."""
    from tscloud_py.cli.ui import echo
    from tscloud_py.emulator.lambda_ import invoke as local_invoke
    from tscloud_py.emulator.lambda_ import rest_api as local_rest_api
    from tscloud_py.emulator.server import write_function_urls

    def on_url(served: local_invoke.ServedUrl) -> None:
        write_function_urls(app.project_dir, {s.aws_url: s.local_url for s in local_invoke.FUNCTION_URLS.served()})
        if announce:
            echo(f"function URL {served.function_name} ({served.region}) -> {served.local_url}  [{served.aws_url}]",
                 err=app.json)

    def on_stage(served: local_rest_api.ServedStage) -> None:
        if announce:
            echo(f"REST API {served.api_id} stage {served.stage} ({served.region}) -> {served.local_url}",
                 err=app.json)

    local_invoke.FUNCTION_URLS.on_new(on_url)
    local_rest_api.STAGES.on_new(on_stage)


def serve_edge(app: AppContext, factory: ClientFactory, *, log_requests: bool, announce: bool = True) -> None:
    """Serve every distribution the emulator holds (and any deployed later) until Ctrl-C or SIGTERM."""
    from tscloud_py.cli.ui import echo
    from tscloud_py.emulator.edge.server import open_fleet

    def on_new(served: Served) -> None:
        if announce:
            echo(describe_served(served), err=app.json)

    def on_log(line: Any) -> None:
        echo(line.render())

    def on_error(exc: Exception) -> None:
        echo(f"local edge: cannot list distributions: {exc}", err=True)

    _announce_function_urls(app, announce)
    fleet: EdgeFleet = open_fleet(factory, log=on_log if log_requests else None, on_new=on_new)
    stopped = threading.Event()

    def stop(*_: object) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        fleet.sync()
        fleet.poll(on_error=on_error)
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        fleet.close()


def describe_served(served: Served) -> str:
    names = ", ".join((served.domain, *served.aliases))
    return f"distribution {served.id} {names} -> {served.url}"


def register(group: click.Group) -> None:
    group.add_command(local)
