"""tscloud ssr: doctor a Nitro build for the known Lambda streaming bugs, eject correct entry files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tscloud_py.commands import pass_app

if TYPE_CHECKING:
    from tscloud_py.app import AppContext
    from tscloud_py.build.doctor import Finding
    from tscloud_py.config_schema import Config


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
@pass_app
def doctor(app: AppContext, directory: Path | None) -> None:
    """Check a Nitro build (default: [ssr] dir, else .output) for the known streaming bugs.

    Exits 1 when it finds anything, 0 when the build is clean, 2 when DIR is not a Nitro build.
    """
    from tscloud_py.build.doctor import diagnose
    from tscloud_py.build.nitro import DEFAULT_DIR, read_nitro_build
    from tscloud_py.ui import print_json

    config = _ssr_config(app)
    configured: bool | None = None
    if config is not None and config.ssr is not None:
        configured = config.ssr.streaming
        if directory is None:
            directory = config.base_dir / config.ssr.dir
    directory = directory if directory is not None else Path(DEFAULT_DIR)
    build = read_nitro_build(directory, shown=str(directory))
    project_dir = config.base_dir if config is not None else build.root.resolve().parent
    findings = diagnose(build, configured_streaming=configured, project_dir=project_dir)
    if app.json:
        print_json({"dir": str(directory), "preset": build.preset, "streaming": build.streaming,
                    "ok": not findings, "findings": [f.to_json() for f in findings]})
    else:
        _print_findings(str(directory), build.preset, build.streaming, findings)
    if findings:
        raise SystemExit(1)


def _print_findings(shown: str, preset: str, streaming: bool, findings: list[Finding]) -> None:
    from tscloud_py.ui import echo

    echo(f"{shown}: preset {preset or '(none)'}, {'streaming' if streaming else 'buffered'}, handler index.handler")
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
    """Write correct streaming and non-streaming Nitro entry files for Lambda."""
    from tscloud_py.build.entry_files import eject, nitro_entry_setting
    from tscloud_py.ui import echo, print_json

    written = eject(dest, force=force)
    entry = nitro_entry_setting(dest, Path.cwd())
    if app.json:
        print_json({"files": [{"path": str(e.path), "status": e.status} for e in written], "entry": entry})
        return
    for e in written:
        echo(f"{e.status:<9} {e.path}")
    echo("")
    echo("Nitro config (vite.config.ts `nitro({...})` or nitro.config.ts):")
    echo('  preset: "aws-lambda",')
    echo(f'  entry: "{entry}",  // no extension: Nitro appends -streaming itself')
    echo("  awsLambda: { streaming: true },")
    echo("then rebuild and run `tscloud ssr doctor`.")


def register(group: click.Group) -> None:
    group.add_command(ssr)
