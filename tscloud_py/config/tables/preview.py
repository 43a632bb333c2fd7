"""[preview]: preview stages served at NAME.<domain> by one shared distribution (`tscloud preview`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tscloud_py.config.tables.common import DOMAIN_HELP, DOMAIN_PATTERN, meta

# A preview stage's name: what `--stage` takes, so it reads the same in CI and on a terminal.
NAME_PATTERN = r"[a-z][a-z0-9-]{0,14}"
NAME_HELP = "expected 1-15 chars of a-z, 0-9 and '-', starting with a letter (like pr-123)"


@dataclass
class PreviewConfig:
    domain: str = field(metadata=meta(
        "the preview host: stage NAME is served at NAME.<domain> (a wildcard certificate and record are made "
        "once by `tscloud preview setup`; [dns] writes them)", pattern=DOMAIN_PATTERN, pattern_help=DOMAIN_HELP,
        example="preview.example.com"))
    spa: bool = field(default=False, metadata=meta(
        "serve the stage's /index.html for paths without a file extension (single-page apps)"))
