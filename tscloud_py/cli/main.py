"""The `tscloud` command line: global options, error handling, command registry.

Commands live in ``tscloud_py/cli/commands/``; each module exposes Click commands
that take the shared ``AppContext`` via ``@pass_app``. Heavy modules (boto3,
rich, presets) are imported inside commands so ``tscloud --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from tscloud_py import __version__
from tscloud_py.cli.commands import LazyGroup
from tscloud_py.errors import TscloudError
from tscloud_py.operations.context import AppContext
from tscloud_py.operations.exit_guard import Terminated


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("tscloud.toml"), show_default=True, help="The config file.")
@click.option("--stage", help="Stage name (default: config `stage`, else dev).")
@click.option("--profile", help="AWS profile.")
@click.option("--region", help="AWS region (default: config `region`).")
@click.option("--endpoint-url", help="Send every AWS call here (also AWS_ENDPOINT_URL).")
@click.option("--local", is_flag=True, help="Run against the embedded AWS emulator (no AWS account needed).")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: print exactly one JSON document on stdout.")
@click.option("--yes", "-y", is_flag=True, help="Answer yes to confirmations.")
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks and request counts.")
@click.version_option(__version__, prog_name="tscloud")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, stage: str | None, profile: str | None, region: str | None,
        endpoint_url: str | None, local: bool, output: str, yes: bool, verbose: bool) -> None:
    """Deploy real applications to AWS, step by step, with state that survives a crash."""
    if local and endpoint_url:
        raise click.UsageError("--local and --endpoint-url exclude each other; pick one")
    if endpoint_url is not None:
        _check_endpoint("--endpoint-url", endpoint_url)
    elif os.environ.get("AWS_ENDPOINT_URL") and not local:
        _check_endpoint("AWS_ENDPOINT_URL", os.environ["AWS_ENDPOINT_URL"])
    _check_environment()
    app = AppContext(config_path=config_path, stage=stage, profile=profile, region=region,
                     endpoint_url=endpoint_url, local=local, output=output, yes=yes, verbose=verbose)
    ctx.obj = app



def _check_endpoint(flag: str, url: str) -> None:
    from urllib.parse import urlparse

    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise click.UsageError(f"{flag}: expected an http:// or https:// URL like http://127.0.0.1:5000, got {url!r}")


def _check_environment() -> None:
    """The variables that steer a run are checked like flags, before anything is sent: exit 2 naming
    the variable."""
    from tscloud_py.dns import URL_VARIABLES

    for var in URL_VARIABLES:
        if os.environ.get(var):
            _check_endpoint(var, os.environ[var])
    from tscloud_py.state.object_store import LEASE_ENV, lease_seconds

    if os.environ.get(LEASE_ENV):
        lease_seconds()


def _on_signal(signum: int, frame: Any) -> None:
    from tscloud_py.operations import exit_guard

    terminated = signum == signal.SIGTERM
    exit_guard.arm(143, "terminated (SIGTERM)") if terminated else exit_guard.arm(130)
    raise Terminated() if terminated else KeyboardInterrupt()


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every error into one line and an exit code."""
    from tscloud_py.cli.global_options import hoist

    args = hoist(cli, sys.argv[1:] if argv is None else argv) or ["--help"]  # bare `tscloud`: the help, exit 0
    verbose = "-v" in args or "--verbose" in args
    as_json = _wants_json(args)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        cli.main(args=args, prog_name="tscloud", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            _interrupted(as_json, isinstance(exc.__cause__, Terminated))
        _fail("aborted", None, 130, as_json)
    except click.ClickException as exc:
        # Click's usage errors: one line, exit 2.
        _fail(_click_message(exc), None, 2 if exc.exit_code == 2 else exc.exit_code, as_json)
    except TscloudError as exc:
        if verbose:
            _traceback()
        _fail(exc.message, exc.hint, exc.exit_code, as_json, aws_code=getattr(exc, "code", None))
    except KeyboardInterrupt as exc:
        _interrupted(as_json, isinstance(exc, Terminated))
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # a bug: still one line unless -v
        if verbose:
            _traceback()
        _fail(f"internal error: {type(exc).__name__}: {exc}", "re-run with -v and report the traceback", 1,
              as_json)
    sys.exit(0)


def _traceback() -> None:
    from tscloud_py.cli.ui import printable

    sys.stderr.write(printable(traceback.format_exc()))


def _interrupted(as_json: bool, terminated: bool = False) -> None:
    code = 143 if terminated else 130
    what = "terminated (SIGTERM)" if terminated else "interrupted"
    # Ignore a second signal while the lock and files are being let go.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        _fail(f"{what}; re-run the same command to resume", None, code, as_json)
    finally:
        # Step threads may still be inside an AWS call or a long wait, and the interpreter would join
        # them before exiting. The lock is released and the journal is whole (as after a kill): leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _click_message(exc: click.ClickException) -> str:
    message = exc.format_message().replace("\n", " ")
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        return f"{exc.ctx.command_path}: {message}"
    return message


def _wants_json(args: list[str]) -> bool:
    for i, arg in enumerate(args):
        if arg == "--output" and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if arg == "--output=json":
            return True
    return False


def _fail(message: str, hint: str | None, code: int, as_json: bool, **extra: Any) -> None:
    from tscloud_py.cli.ui import printable
    from tscloud_py.redact import scrub

    if as_json:
        doc: dict[str, Any] = {"error": scrub(message)}
        if hint:
            doc["hint"] = scrub(hint)
        doc.update({k: v for k, v in extra.items() if v})
        sys.stdout.write(json.dumps(doc) + "\n")
    print(f"error: {printable(message)}", file=sys.stderr)
    if hint:
        print(f"hint: {printable(hint)}", file=sys.stderr)
    sys.exit(code)
