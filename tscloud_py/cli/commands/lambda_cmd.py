"""tscloud lambda: publish layers (skipping unchanged ones), attach them, and build the Bun runtime layer."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext

ARCH = click.Choice(["arm64", "x86_64"])
LAYER_NAME = r"[a-zA-Z0-9_-]{1,64}"


@click.group("lambda")
def lambda_() -> None:
    """Lambda layers and the Bun runtime layer."""


@lambda_.group()
def layer() -> None:
    """Lambda layers."""


def layer_zip(source: Path) -> bytes:
    """A layer zip from a directory (zipped deterministically) or an existing .zip file (as is)."""
    from tscloud_py.build.zipper import zip_dir

    if source.is_dir():
        data = zip_dir(source)
        if not data or len(data) <= 22:  # an empty archive is just the end-of-directory record
            raise UsageError(f"SOURCE: {source} has no files")
        return data
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise UsageError(f"SOURCE: {source} is not a zip file", "pass a directory or a .zip")
        return source.read_bytes()
    raise UsageError(f"SOURCE: {source} does not exist")


def _check_name(name: str) -> None:
    import re

    if not re.fullmatch(LAYER_NAME, name):
        raise UsageError(f"--name: expected 1-64 chars of letters, digits, '-' and '_', got {name!r}")


def _publish(app: AppContext, name: str, data: bytes, runtimes: list[str], archs: list[str], description: str,
             s3_bucket: str | None) -> dict[str, Any]:
    from tscloud_py.aws.lambda_ import DIRECT_UPLOAD_LIMIT, Lambda
    from tscloud_py.build.zipper import code_sha256, sha256_hex

    factory = app.factory()
    lam = Lambda(factory)
    s3: tuple[str, str] | None = None
    if s3_bucket and len(data) > DIRECT_UPLOAD_LIMIT:
        from tscloud_py.aws.s3 import S3

        s3 = (s3_bucket, f"tscloud/layers/{name}/{sha256_hex(data)}.zip")
        latest = lam.latest_layer_version(name)
        if latest is None or latest.get("Content", {}).get("CodeSha256") != code_sha256(data):
            S3(factory).put_object(s3[0], s3[1], data, content_type="application/zip", cache_control="no-store")
    version, published = lam.publish_layer_if_changed(name, data, runtimes=runtimes, architectures=archs,
                                                      description=description, s3=s3)
    return {"name": name, "version": int(version["Version"]), "arn": version["LayerVersionArn"],
            "status": "published" if published else "unchanged", "code_sha256": code_sha256(data),
            "size": len(data), "runtimes": runtimes, "architectures": archs}


def _report(app: AppContext, doc: dict[str, Any]) -> None:
    from tscloud_py.cli.ui import echo, print_json

    if app.json:
        print_json(doc)
    elif doc["status"] == "unchanged":
        echo(f"unchanged {doc['arn']} (same CodeSha256 {doc['code_sha256']})")
    else:
        echo(f"published {doc['arn']} ({doc['size'] / 1024:.0f} KiB)")


@layer.command("publish")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Layer name.")
@click.option("--runtime", "runtimes", multiple=True, metavar="R", help="Compatible runtime (repeatable).")
@click.option("--arch", "archs", type=ARCH, multiple=True, help="Compatible architecture (repeatable).")
@click.option("--description", default="", help="Layer version description.")
@click.option("--s3-bucket", help="Upload through this bucket (needed above 50 MB zipped).")
@pass_app
def layer_publish(app: AppContext, source: Path, name: str, runtimes: tuple[str, ...], archs: tuple[str, ...],
                  description: str, s3_bucket: str | None) -> None:
    """Publish SOURCE (a directory, zipped deterministically, or a .zip) as a layer version.

    Nothing is published when the newest version already has the same CodeSha256.
    """
    _check_name(name)
    _report(app, _publish(app, name, layer_zip(source), list(runtimes), list(archs), description, s3_bucket))


@layer.command("attach")
@click.argument("function")
@click.argument("layer_arns", nargs=-1, required=True, metavar="LAYER_VERSION_ARN...")
@click.option("--replace", is_flag=True, help="Set exactly these layers (default: add, replacing older versions).")
@pass_app
def layer_attach(app: AppContext, function: str, layer_arns: tuple[str, ...], replace: bool) -> None:
    """Attach layer versions to FUNCTION (at most 5 layers per function)."""
    from tscloud_py.aws.lambda_ import Lambda, check_layers, layer_name_of
    from tscloud_py.cli.ui import echo, print_json

    lam = Lambda(app.factory())
    fn = lam.get_function(function)
    if fn is None:
        raise UsageError(f"FUNCTION: no Lambda function named {function!r} in {app.factory().region}")
    current = [str(item["Arn"]) for item in fn["Configuration"].get("Layers", [])]
    wanted = [] if replace else list(current)
    for arn in layer_arns:
        wanted = [a for a in wanted if layer_name_of(a) != layer_name_of(arn)] + [arn]
    check_layers(wanted)
    status = "unchanged"
    if wanted != current:
        lam.set_layers(function, wanted)
        lam.wait_ready(function)
        status = "updated"
    if app.json:
        print_json({"function": function, "layers": wanted, "status": status})
    else:
        echo(f"{status} {function}: {len(wanted)} layer{'s' if len(wanted) != 1 else ''}")
        for arn in wanted:
            echo(f"  {arn}")


@lambda_.group("bun-layer")
def bun_layer() -> None:
    """The Bun runtime layer (provided.al2023): bootstrap + Runtime API loop + Bun."""


def _bun_options(fn: Any) -> Any:
    fn = click.option("--arch", type=ARCH, default="arm64", show_default=True, help="Layer architecture.")(fn)
    fn = click.option("--bun", "bun", type=click.Path(dir_okay=False, path_type=Path),
                      help="Package this Bun binary (a Linux build for --arch) instead of npm's release.")(fn)
    fn = click.option("--bun-version", default=None, metavar="X.Y.Z",
                      help="Bun release from the npm registry, integrity-checked and cached "
                           "[default: the version tscloud pins].")(fn)
    return fn


def _layer(app: AppContext, bun: Path | None, version: str | None, arch: str) -> tuple[bytes, dict[str, Any]]:
    """The layer zip and what describes it: npm's release (cached), or the binary --bun names."""
    from tscloud_py.build.bun_layer import RUNTIME, build_bun_layer, npm_layer
    from tscloud_py.build.bun_npm import BUN_VERSION, check_version
    from tscloud_py.build.zipper import code_sha256
    from tscloud_py.cli.ui import echo

    if bun is not None and version is not None:
        raise UsageError("--bun and --bun-version: pass one (a local binary, or a release from npm)")
    doc: dict[str, Any] = {"runtime": RUNTIME, "architecture": arch}
    if bun is not None:
        data = build_bun_layer(bun, arch)
        doc.update(bun=str(bun), size=len(data), code_sha256=code_sha256(data))
        return data, doc
    built = npm_layer(check_version(version or BUN_VERSION), arch,
                      progress=None if app.json else (lambda line: echo(line, err=True)))
    data = built.read()
    doc.update(bun_version=built.version, size=built.size, unzipped_size=built.unzipped_size,
               code_sha256=built.code_sha256)
    return data, doc


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


@bun_layer.command("build")
@_bun_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the zip (default: bun-layer-ARCH.zip).")
@pass_app
def bun_build(app: AppContext, bun: Path | None, bun_version: str | None, arch: str, out: Path | None) -> None:
    """Build the Bun runtime layer zip (Bun from the npm registry unless --bun names a binary)."""
    from tscloud_py.cli.ui import echo, print_json

    data, doc = _layer(app, bun, bun_version, arch)
    out = out or Path(f"bun-layer-{arch}.zip")
    out.write_bytes(data)
    doc = {"path": str(out), **doc}
    if app.json:
        print_json(doc)
        return
    unzipped = f", {_mib(doc['unzipped_size'])} unzipped" if "unzipped_size" in doc else ""
    release = f"Bun {doc['bun_version']}, " if "bun_version" in doc else ""
    echo(f"wrote {out} ({_mib(len(data))} zipped{unzipped}; {release}{doc['runtime']}, {arch})")


@bun_layer.command("publish")
@_bun_options
@click.option("--name", default=None, help="Layer name (default: tscloud-bun-ARCH).")
@click.option("--s3-bucket", help="Upload through this bucket (needed above 50 MB zipped).")
@pass_app
def bun_publish(app: AppContext, bun: Path | None, bun_version: str | None, arch: str, name: str | None,
                s3_bucket: str | None) -> None:
    """Build and publish the Bun runtime layer (skipped when unchanged)."""
    from tscloud_py.build.bun_layer import DEFAULT_LAYER_NAME, RUNTIME

    name = name or f"{DEFAULT_LAYER_NAME}-{arch.replace('_', '-')}"
    _check_name(name)
    data, doc = _layer(app, bun, bun_version, arch)
    description = f"Bun {doc['bun_version']} runtime (tscloud)" if "bun_version" in doc else "Bun runtime (tscloud)"
    _report(app, _publish(app, name, data, [RUNTIME], [arch], description, s3_bucket))


def register(group: click.Group) -> None:
    group.add_command(lambda_)
