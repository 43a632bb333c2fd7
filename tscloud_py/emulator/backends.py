"""Every (account, region, backend) of one of moto's services, for the emulator's own threads (the SQS
pollers, the schedule runner) that look at all of them: copied first, since requests may add to them."""

from __future__ import annotations

import importlib
from typing import Any


def each_backend(module: str, name: str) -> list[tuple[str, str, Any]]:
    """``module``'s BackendDict ``name`` (``moto.sqs.models``, ``sqs_backends``) as a list; empty without moto."""
    try:
        backends = getattr(importlib.import_module(module), name)
    except ImportError:
        return []
    return [(account, region, backend) for account, regions in list(backends.items())
            for region, backend in list(regions.items())]
