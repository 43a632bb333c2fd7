"""tscloud local serve: keep an embedded emulator running on loopback."""

from __future__ import annotations

import contextlib
import signal
from typing import TYPE_CHECKING

import click

from tscloud_py.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.app import AppContext


@click.group()
def local() -> None:
    """The embedded AWS emulator."""


@local.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@pass_app
def serve(app: AppContext, port: int) -> None:
    """Keep an emulator running; deploy to it with --endpoint-url (or --local from this directory)."""
    from tscloud_py.local import Emulator, endpoint_file, write_endpoint
    from tscloud_py.ui import echo, print_json

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
        echo("press Ctrl-C to stop")

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        with contextlib.suppress(OSError):
            endpoint_file(app.project_dir).unlink()
        if not app.json:
            echo("emulator stopped", err=True)


def register(group: click.Group) -> None:
    group.add_command(local)
