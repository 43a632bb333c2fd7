"""How presets name, tag and tokenise what they create: ``{app}-{stage}-{role}`` (with the region for
global resources), the tscloud tags, and deterministic idempotency tokens.

``Names`` is the one place a preset's steps get their names from: a step is given the ``Names`` of its
app, stage and region, never the app and stage to spell a name itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Names:
    """The names, tags and descriptions of one app and stage in one region."""

    app: str
    stage: str
    region: str

    @property
    def prefix(self) -> str:
        """``{app}-{stage}``: what every name starts with (an ECS cluster and a schedule group are just this)."""
        return f"{self.app}-{self.stage}"

    def resource(self, role: str, limit: int = 255) -> str:
        """``{app}-{stage}-{role}``, shortened with a stable hash past ``limit`` (ALB names: 32)."""
        return short_name(f"{self.prefix}-{role}", limit)

    def regional(self, role: str) -> str:
        """A global resource's name: the region's code in it (see ``regional_name``)."""
        return regional_name(self.app, self.stage, self.region, role)

    def legacy(self, role: str) -> str:
        """The same resource's name before names carried the region."""
        return legacy_name(self.app, self.stage, role)

    def bucket(self, account: str, role: str = "site") -> str:
        """Globally unique yet deterministic: the account and region are hashed in."""
        return f"{self.prefix}-{role}-{short_hash(account, self.region)}"

    def secret(self, role: str) -> str:
        """A Secrets Manager secret's name."""
        return f"tscloud/{self.app}/{self.stage}/{role}"

    def log_group(self) -> str:
        """The containers' log group."""
        return f"/tscloud/{self.app}/{self.stage}"

    def function_log_group(self, function_name: str) -> str:
        """Where Lambda writes a function's logs (the name Lambda picks; the step creates it first)."""
        return f"/aws/lambda/{function_name}"

    def description(self, what: str = "") -> str:
        """The description a resource carries: ``tscloud {app}-{stage} {what}``."""
        return f"tscloud {self.prefix} {what}" if what else f"tscloud {self.prefix}"

    def distribution_comment(self, step_id: str) -> str:
        return distribution_comment(self.app, self.stage, self.region, step_id)

    def legacy_distribution_comment(self, step_id: str) -> str:
        return legacy_distribution_comment(self.app, self.stage, step_id)

    def arn(self, account: str, service: str, resource: str, *, regional: bool = True) -> str:
        """The ARN of ``resource`` of ``service`` in this region (or a global one) of ``account``."""
        return f"arn:aws:{service}:{self.region if regional else ''}:{account}:{resource}"

    def tags(self, step: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return tag_dict(self.app, self.stage, step, extra)

    def owner_tags(self) -> dict[str, str]:
        """The tags that say which app and stage own a resource, whichever step made it."""
        return {"tscloud:app": self.app, "tscloud:stage": self.stage}

    def token(self, *parts: str) -> str:
        """A deterministic idempotency token scoped to this app and stage."""
        return token(self.prefix, *parts)
