"""How presets name, tag and tokenise what they create: ``{app}-{stage}-{role}`` (with the region for
global resources), the tscloud tags, and deterministic idempotency tokens."""

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


# Global and account-wide resources (CloudFront distributions, OACs and Functions; IAM roles) are not
# regional, so the same app and stage deployed in two regions must not share them: their names carry
# the region, as a short code where AWS limits the length (IAM role names: 64 characters). Deployments
# made before the region was in the name keep their resources under the old (``legacy_*``) name: a
# deploy adopts the one that belongs to its region rather than making a second, and never renames it
# (a rename is a write, or for IAM a replacement).

_WORDS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c", "northeast": "ne",
          "southeast": "se", "northwest": "nw", "southwest": "sw", "gov": "g"}


def region_code(region: str) -> str:
    """us-east-1 -> use1, ap-southeast-2 -> apse2, us-gov-west-1 -> usgw1 (distinct for every region)."""
    parts = region.split("-")
    if len(parts) < 3:
        return region.replace("-", "")
    return parts[0] + "".join(_WORDS.get(p, p) for p in parts[1:-1]) + parts[-1]


def regional_name(app: str, stage: str, region: str, role: str) -> str:
    return f"{app}-{stage}-{region_code(region)}-{role}"


def legacy_name(app: str, stage: str, role: str) -> str:
    return f"{app}-{stage}-{role}"


def distribution_comment(app: str, stage: str, region: str, step_id: str) -> str:
    return f"tscloud {app}-{stage} {region} {step_id}"


def legacy_distribution_comment(app: str, stage: str, step_id: str) -> str:
    return f"tscloud {app}-{stage} {step_id}"
