"""IAM policy evaluation as AWS does it, where moto's differs."""

from __future__ import annotations

import fnmatch
from typing import Any


def apply() -> None:
    _bucket_policy_conditions()


def _bucket_policy_conditions() -> None:
    """In AWS a statement whose Condition is not met does not apply.

    moto ignores operators it does not know (Bool among them) and so applies a
    conditional Deny to everything: a TLS-only bucket policy (Deny when
    aws:SecureTransport is false) would refuse every object write. The emulator
    stands in for AWS's TLS endpoints, so every request counts as secure.
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> Any:
        incoming = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        condition = self._statement.get("Condition")
        if condition and not conditions_met(condition, incoming):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, None if condition else incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]


def conditions_met(condition: dict[str, dict[str, Any]], values: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators our policies use; a missing key is unmet."""
    lowered = {k.lower(): v for k, v in values.items()}
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = lowered.get(key.lower())
            if actual is None:
                return False
            options = expected if isinstance(expected, list) else [expected]
            if operator == "Bool":
                ok = any(str(actual).lower() == str(o).lower() for o in options)
            elif operator in ("StringEquals", "ArnEquals"):
                ok = actual in options
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, str(o)) for o in options)
            elif operator in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in options
            else:
                return False
            if not ok:
                return False
    return True
