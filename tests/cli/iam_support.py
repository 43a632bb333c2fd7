"""Checking the requests a run sent against the policy `tscloud iam policy` printed (issue 27).

Each request the counting proxy recorded is resolved to the API operation (``Recorded.api_operation``) of the
botocore service its SigV4 scope names, then through the action catalogue to the IAM actions it needs; an
S3 request's resource is its bucket or object ARN, read from its path (the policy scopes every S3 action).
A statement allows an action when its Action names it and its Resource pattern matches (IAM's ``*``/``?``).
"""

from __future__ import annotations

import fnmatch
import functools
from typing import Any
from urllib.parse import unquote

from tests.fakes.aws_proxy import Recorded
from tscloud_py.aws.actions import CATALOGUE, Grant


@functools.cache
def _by_signing_name() -> dict[tuple[str, str], str]:
    """(SigV4 service, operation) -> the catalogue's "service:Operation"."""
    import botocore.session

    session = botocore.session.get_session()
    found = {}
    for key in CATALOGUE:
        service, _, op = key.partition(":")
        model = session.get_service_model(service)
        signing = model.metadata.get("signingName") or model.endpoint_prefix
        found[(signing, op)] = key
    return found


def catalogue_key(r: Recorded) -> str:
    key = _by_signing_name().get((r.service, r.api_operation))
    assert key is not None, f"{r.describe()} ({r.api_operation}) is sent but has no catalogue entry"
    return key


def s3_resource(r: Recorded, grant: Grant) -> str | None:
    """The ARN an S3 request acts on (path-style), bucket or object as the grant's kind says."""
    if r.service != "s3":
        return None
    bucket, _, key = r.path.lstrip("/").partition("/")
    if grant.resource.endswith("object"):
        return f"arn:aws:s3:::{bucket}/{unquote(key)}"
    return f"arn:aws:s3:::{bucket}"


def _as_list(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def allows(policy: dict[str, Any], action: str, resource: str | None) -> bool:
    for stmt in policy["Statement"]:
        if stmt["Effect"] != "Allow" or action not in _as_list(stmt["Action"]):
            continue
        if resource is None or any(fnmatch.fnmatchcase(resource, p) for p in _as_list(stmt["Resource"])):
            return True
    return False


def refused(policy: dict[str, Any], requests: list[Recorded]) -> list[str]:
    """Each request (as "operation action resource") the policy does not allow."""
    missing = []
    for r in requests:
        if r.service == "sts" and r.api_operation == "GetCallerIdentity":
            continue  # AWS allows it to every principal
        for grant in CATALOGUE[catalogue_key(r)]:
            resource = s3_resource(r, grant)
            for action in grant.actions:
                if not allows(policy, action, resource):
                    missing.append(f"{r.describe()} {action} {resource or ''}".strip())
    return sorted(set(missing))


def unused(policy: dict[str, Any], requests: list[Recorded]) -> set[str]:
    """The policy's actions that none of ``requests`` needed."""
    used = {a for r in requests for g in CATALOGUE[catalogue_key(r)] for a in g.actions}
    return {a for stmt in policy["Statement"] for a in _as_list(stmt["Action"])} - used
