"""The Bun release tscloud pins, apart from the code that fetches it: the config schema reads it as a default
on every command, and ``bun_npm`` brings in urllib and tarfile, which only a Bun download needs."""

from __future__ import annotations

BUN_VERSION = "1.4.4"
