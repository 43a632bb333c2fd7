"""Checking the requests a run sent against the policy `tscloud iam policy` printed (issue 27).

Each request the counting proxy recorded is resolved to the API operation (``Recorded.api_operation``) of the
botocore service its SigV4 scope names, then through the action catalogue to the IAM actions it needs, and
judged as the emulator's enforced IAM judges it (``tscloud_py.emulator.enforce_iam``): an S3 action against
the bucket or object ARN its path names (the policy scopes every S3 action), another service's by action.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.aws_proxy import Recorded
from tscloud_py.aws.actions import CATALOGUE
from tscloud_py.emulator import enforce_iam

# the emulator's account and the examples' region, which a request's condition keys name
ACCOUNT, REGION = "123456789012", "us-east-1"


def catalogue_key(r: Recorded) -> str:
    key = enforce_iam.catalogue_key(r.service, r.api_operation)
    assert key is not None, f"{r.describe()} ({r.api_operation}) is sent but has no catalogue entry"
    return key


def refused(policy: dict[str, Any], requests: list[Recorded]) -> list[str]:
    """Each request (as "operation action resource") the policy does not allow."""
    missing = []
    for r in requests:
        if r.service == "sts" and r.api_operation == "GetCallerIdentity":
            continue  # AWS allows it to every principal
        catalogue_key(r)
        context = enforce_iam.request_context(r.service, r.body, REGION, ACCOUNT)
        denied = enforce_iam.refused([policy], r.service, r.api_operation, r.path, context)
        if denied is not None:
            missing.append(f"{r.describe()} {denied[0]} {denied[1]}".strip())
    return sorted(set(missing))


def unused(policy: dict[str, Any], requests: list[Recorded]) -> set[str]:
    """The policy's actions that none of ``requests`` needed."""
    used = {a for r in requests for g in CATALOGUE[catalogue_key(r)] for a in g.actions}
    return {a for stmt in policy["Statement"] for a in _as_list(stmt["Action"])} - used


def _as_list(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else [value]
