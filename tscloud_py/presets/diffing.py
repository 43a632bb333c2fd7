"""Comparing what we want with what AWS reports.

AWS echoes back every field with its defaults filled in, so equality is
"every field we set has the value we set": ``wanted`` must be a subset of
``actual``. Lists must match in length and element by element.
"""

from __future__ import annotations

import json
from typing import Any

from tscloud_py.engine.step import Change


def subset_diff(wanted: Any, actual: Any, path: str = "") -> list[Change]:
    """Changes needed so that ``actual`` carries every value of ``wanted``."""
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return [Change(path or "(value)", actual, wanted)]
        changes: list[Change] = []
        for key, value in wanted.items():
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                if _is_empty(value):
                    continue
                changes.append(Change(sub, None, value))
            else:
                changes.extend(subset_diff(value, actual[key], sub))
        return changes
    if isinstance(wanted, list):
        if not isinstance(actual, list) or len(actual) != len(wanted):
            return [Change(path, actual, wanted)]
        out: list[Change] = []
        for i, (w, a) in enumerate(zip(wanted, actual, strict=True)):
            out.extend(subset_diff(w, a, f"{path}[{i}]"))
        return out
    if wanted != actual and not (_is_empty(wanted) and _is_empty(actual)):
        return [Change(path, actual, wanted)]
    return []


def _is_empty(value: Any) -> bool:
    return value in (None, "", [], {}) or (isinstance(value, dict) and value.get("Quantity") == 0
                                           and not value.get("Items"))


def overlay(base: Any, wanted: Any) -> Any:
    """``base`` with every value of ``wanted`` written over it (dicts merged, lists replaced)."""
    if isinstance(base, dict) and isinstance(wanted, dict):
        merged = dict(base)
        for key, value in wanted.items():
            merged[key] = overlay(base.get(key), value) if key in base else value
        return merged
    return wanted


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
