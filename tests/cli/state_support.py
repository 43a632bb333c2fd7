"""The state bucket as tests see it: read or delete a stage's journal, read its lock (moto's account)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from tests.cli.site_support import boto

ACCOUNT = "123456789012"  # moto's default account


def state_bucket(region: str = "us-east-1") -> str:
    return f"tscloud-state-{ACCOUNT}-{region}"


def journal_text(endpoint: str, app: str, stage: str = "dev", region: str = "us-east-1") -> str | None:
    s3 = boto(endpoint, "s3")
    try:
        return str(s3.get_object(Bucket=state_bucket(region), Key=f"journals/{app}/{stage}.json")["Body"]
                   .read().decode())
    except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):  # no state bucket yet: no journal either
        return None


def journal(endpoint: str, app: str, stage: str = "dev", region: str = "us-east-1") -> dict[str, Any] | None:
    text = journal_text(endpoint, app, stage, region)
    return json.loads(text) if text is not None else None


def delete_journal(endpoint: str, app: str, stage: str = "dev", region: str = "us-east-1") -> None:
    s3 = boto(endpoint, "s3")
    # Killed before the state bucket was made: there is no journal to delete.
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        s3.delete_object(Bucket=state_bucket(region), Key=f"journals/{app}/{stage}.json")


def lock(endpoint: str, app: str, stage: str = "dev", region: str = "us-east-1") -> dict[str, Any] | None:
    """The holder's record while the stage is locked; None when it is free (no lock yet, or the released
    record a run leaves when it gives the lock back)."""
    data = lock_record(endpoint, app, stage, region)
    return None if data is None or "released" in data else data


def lock_record(endpoint: str, app: str, stage: str = "dev", region: str = "us-east-1") -> dict[str, Any] | None:
    """The stored lock record as it is, released or not (None: there is none)."""
    s3 = boto(endpoint, "s3")
    try:
        body = s3.get_object(Bucket=state_bucket(region), Key=f"locks/{app}/{stage}")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    data: dict[str, Any] = json.loads(body)
    return data


def ensure_bucket(endpoint: str, region: str = "us-east-1") -> None:
    """Make the state bucket (as tscloud does on first use) so a reference run's request count does not
    depend on whether it was the first run against this server."""
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.state_bucket import S3StateStore

    factory = ClientFactory(region=region, endpoint_url=endpoint,
                            credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"})
    S3StateStore(factory, state_bucket(region), owned=True).ensure()
