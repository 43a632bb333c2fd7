"""Tag shapes: AWS spells a tag list three ways; convert from one plain dict."""

from __future__ import annotations

from typing import Any


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """``[{"Key": k, "Value": v}]`` (EC2, RDS, ElastiCache, ELBv2, IAM, ECR, Scheduler)."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_list_lower(tags: dict[str, str]) -> list[dict[str, str]]:
    """``[{"key": k, "value": v}]`` (ECS)."""
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def tags_dict(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """A plain dict from either list shape."""
    out: dict[str, str] = {}
    for item in items or []:
        key = item.get("Key", item.get("key"))
        if key is not None:
            out[str(key)] = str(item.get("Value", item.get("value", "")))
    return out
