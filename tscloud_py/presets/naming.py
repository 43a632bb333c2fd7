"""How presets name, tag and tokenise what they create: ``{app}-{stage}-{role}``, the tscloud tags,
and deterministic idempotency tokens."""

from __future__ import annotations

import hashlib
from typing import Any


def tag_dict(app: str, stage: str, step: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The tags every resource carries: which app, stage and step own it."""
    return {"tscloud:app": app, "tscloud:stage": stage, "tscloud:step": step, **(extra or {})}


def short_hash(*parts: Any, length: int = 8) -> str:
    """A short stable digest of ``parts`` (the account and region in a globally unique bucket name)."""
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:length]


def short_name(name: str, limit: int) -> str:
    """``name`` if it fits ``limit``, else a truncated prefix plus a stable hash (ALB names: 32)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"


def token(*parts: str) -> str:
    """A deterministic idempotency token (ECS clientToken, NAT ClientToken, ...)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]
