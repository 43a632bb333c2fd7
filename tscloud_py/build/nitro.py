"""Reading a Nitro build directory (``.output/`` by default).

A Nitro build for AWS Lambda has ``nitro.json`` (the preset and, in Nitro 3,
the resolved config), the server bundle in ``server/`` whose ``index.mjs``
exports ``handler`` (so the Lambda handler is ``index.handler``), and the
static files in ``public/``.

Streaming is decided from ``nitro.json``; both forms seen in the wild count:
preset ``aws-lambda-streaming``, and preset ``aws-lambda`` with
``config.awsLambda.streaming: true``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.build.zipper import ZipEntry

DEFAULT_DIR = ".output"
HANDLER = "index.handler"
HANDLER_FILES = ("index.mjs", "index.js", "index.cjs")
LAMBDA_PRESETS = ("aws-lambda", "aws-lambda-streaming")

# `export { x as handler }`, `export { handler }`, `export const handler`, `export async function handler`,
# `exports.handler =`, `module.exports.handler =`
_EXPORT_HANDLER = re.compile(
    r"export\s*\{[^}]*\bhandler\b[^}]*\}"
    r"|export\s+(?:const|let|var|async\s+function|function)\s+handler\b"
    r"|\bexports\.handler\s*="
)


class NotNitroBuildError(UsageError):
    """The directory is not a Nitro build output."""

    default_hint = "build the app first (`vite build` or `nitro build`), then pass its output dir (default .output)"


@dataclass(frozen=True)
class PublicEntry:
    """A top-level entry of ``public/``: one CloudFront behavior each."""

    name: str
    is_dir: bool

    @property
    def path_pattern(self) -> str:
        return f"/{self.name}/*" if self.is_dir else f"/{self.name}"


@dataclass(frozen=True)
class NitroBuild:
    root: Path
    meta: dict[str, Any] = field(repr=False)
    preset: str
    streaming: bool
    server_dir: Path
    public_dir: Path
    handler: str = HANDLER

    @property
    def config(self) -> dict[str, Any]:
        config = self.meta.get("config")
        return config if isinstance(config, dict) else {}

    @property
    def aws_lambda_config(self) -> dict[str, Any]:
        value = self.config.get("awsLambda")
        return value if isinstance(value, dict) else {}

    @property
    def configured_streaming(self) -> bool | None:
        """``config.awsLambda.streaming`` as written in nitro.json (None when absent)."""
        value = self.aws_lambda_config.get("streaming")
        return value if isinstance(value, bool) else None

    @property
    def entry(self) -> str | None:
        value = self.config.get("entry")
        return value if isinstance(value, str) else None

    @property
    def is_lambda(self) -> bool:
        return self.preset in LAMBDA_PRESETS

    def handler_file(self) -> Path | None:
        """The server's ``index.*`` file, if any."""
        for name in HANDLER_FILES:
            path = self.server_dir / name
            if path.is_file():
                return path
        return None

    def exports_handler(self) -> bool:
        """Whether ``index.*`` in the server dir exports ``handler`` (so ``index.handler`` resolves)."""
        path = self.handler_file()
        if path is None:
            return False
        return bool(_EXPORT_HANDLER.search(path.read_text(encoding="utf-8", errors="replace")))

    def server_zip(self, extra: Sequence[ZipEntry] = ()) -> bytes:
        """The server bundle as a deterministic zip (an unchanged build gives the same bytes), with the
        ``extra`` files tscloud adds."""
        from tscloud_py.build.zipper import build_zip, dir_entries

        return build_zip([*dir_entries(self.server_dir), *extra])

    def public_entries(self) -> list[PublicEntry]:
        """Top-level entries of ``public/``, sorted; hidden files are skipped."""
        if not self.public_dir.is_dir():
            return []
        return sorted(
            (PublicEntry(p.name, p.is_dir()) for p in self.public_dir.iterdir() if not p.name.startswith(".")),
            key=lambda e: e.name,
        )


def normalise_preset(preset: str) -> str:
    """Nitro spells presets ``aws-lambda`` or ``aws_lambda``; compare one way."""
    return preset.strip().lower().replace("_", "-")


def streaming_of(meta: dict[str, Any]) -> bool:
    """Whether ``nitro.json`` asks for response streaming."""
    preset = normalise_preset(str(meta.get("preset", "")))
    if preset == "aws-lambda-streaming":
        return True
    config = meta.get("config")
    aws = config.get("awsLambda") if isinstance(config, dict) else None
    return preset == "aws-lambda" and isinstance(aws, dict) and aws.get("streaming") is True


def read_nitro_build(directory: Path, *, shown: str | None = None) -> NitroBuild:
    """Read ``directory`` as a Nitro build; ``NotNitroBuildError`` (exit 2) when it is not one."""
    shown = shown or str(directory)
    if not directory.is_dir():
        raise NotNitroBuildError(f"{shown}: not a directory")
    meta_path = directory / "nitro.json"
    if not meta_path.is_file():
        raise NotNitroBuildError(f"{shown}: not a Nitro build (no nitro.json)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotNitroBuildError(f"{shown}/nitro.json: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise NotNitroBuildError(f"{shown}/nitro.json: expected a JSON object")
    server_dir = directory / "server"
    if not server_dir.is_dir():
        raise NotNitroBuildError(f"{shown}: not a Nitro build (no server/ directory)")
    return NitroBuild(
        root=directory,
        meta=meta,
        preset=normalise_preset(str(meta.get("preset", ""))),
        streaming=streaming_of(meta),
        server_dir=server_dir,
        public_dir=directory / "public",
    )
