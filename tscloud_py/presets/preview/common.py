"""What the preview host and its stages agree on: the host's stage name, and each stage's prefix and key."""

from __future__ import annotations

from tscloud_py.config.schema import Config, PreviewConfig
from tscloud_py.errors import ConfigError
from tscloud_py.presets.naming import Names

# The host's own journal and lock live under this stage; each preview stage's under ``stage_of(NAME)``.
HOST_STAGE = "preview"
STAGE_PREFIX = "preview-"


def stage_of(name: str) -> str:
    """The stage a preview stage's journal and lock are kept under (apart from the config's own stages)."""
    return STAGE_PREFIX + name


def host_names(config: Config, region: str) -> Names:
    return Names(config.app, HOST_STAGE, region)


def preview_table(config: Config) -> PreviewConfig:
    if config.preview is None:
        raise ConfigError(config.path, "preview", "tscloud preview needs a [preview] table with domain = "
                          "\"preview.example.com\"")
    return config.preview


def stage_prefix(name: str) -> str:
    """Where a stage's files are in the host's bucket."""
    return f"stages/{name}/"


def stage_host(name: str, domain: str) -> str:
    """A stage's host name, which is its key in the store."""
    return f"{name}.{domain.lower().rstrip('.')}"
