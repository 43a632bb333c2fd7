"""Canonical texts for comparing what we want with what AWS reports (CloudFront's comparator is
``aws/cloudfront/model.config_changes``)."""

from __future__ import annotations

import json
from typing import Any


def canonical(value: Any) -> str:
    """One JSON text per value, whatever its key order: equal texts mean equal values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def canonical_policy(policy: Any) -> str:
    """``canonical`` with IAM's reading of a policy: a one-item list is that item, and the order of a
    list (actions, resources, statements) carries no meaning."""

    def norm(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, list):
            items = [norm(x) for x in v]
            return items[0] if len(items) == 1 else sorted(items, key=canonical)
        return v

    return canonical(norm(policy))
