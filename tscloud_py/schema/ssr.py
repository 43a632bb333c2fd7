"""ssr-app table: [ssr]. Owned by the ssr-app work (issue 6)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tscloud_py.schema.common import meta


@dataclass
class SsrConfig:
    dir: str = field(default=".output", metadata=meta("the Nitro build output, relative to tscloud.toml"))
