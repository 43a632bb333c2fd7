"""The state bucket: where tscloud keeps its locks and journals in the account (the S3 ``ObjectStore``).

One per account and region, ``tscloud-state-<account>-<region>``, made on first
use with the guard rails of every bucket tscloud owns (Block Public Access,
SSE, owner-enforced objects, TLS-only policy) plus versioning, so every earlier
journal can be recovered; old versions expire after 90 days. The tag
``tscloud:state = "v1"`` is written last: a bucket without it was left
half-made by a killed run and is finished on the next.

A bucket named in ``[state] bucket`` is the user's: used as it is, never
created or changed.
"""

from __future__ import annotations

import contextlib
import email.utils
import threading
import time
from typing import Any

from tscloud_py.aws.s3 import S3
from tscloud_py.aws.session import IDENTITY_ATTEMPTS, ClientFactory, call, error_code, paginate
from tscloud_py.concurrency import Background
from tscloud_py.errors import AwsError, ConfigError
from tscloud_py.state.object_store import NOT_MODIFIED, Conflict, Stored

STATE_TAG = ("tscloud:state", "v1")
NONCURRENT_DAYS = 90
# A conditional write that lost: 412 PreconditionFailed, or 409 ConditionalRequestConflict when another
# conditional write to the same key was in flight.
CONFLICT_CODES = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


def default_bucket_name(account: str, region: str) -> str:
    return f"tscloud-state-{account}-{region}"


class S3StateStore:
    def __init__(self, factory: ClientFactory, bucket: str, *, owned: bool,
                 config_path: str = "tscloud.toml") -> None:
        self.factory = factory
        self.bucket = bucket
        self.owned = owned  # ours to create and harden (the default bucket), or the user's
        self._config_path = config_path
        self._ready = False
        self._answered = False
        # Set once a write (a run's first: the lock's) is on the wire. Reads a run starts early wait for it
        # (``engine/prefetch.py``): their requests would otherwise hold the CPU the lock's is built on.
        self.writing = threading.Event()
        self._hooked: set[int] = set()  # the clients whose events reach this store

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def _client(self) -> Any:
        # Until the endpoint has answered once, a request is sent at most IDENTITY_ATTEMPTS times: with the
        # account already known (``aws/account_cache.py``) the lock is the run's first request, and an
        # endpoint that cannot be reached at all ends the run within seconds, not after a minute of backoff.
        client = self.factory.client("s3", attempts=None if self._answered else IDENTITY_ATTEMPTS)
        if id(client) not in self._hooked:
            self._hooked.add(id(client))
            # after-call fires on every answer, an error's too: only a request that got none is retried less
            client.meta.events.register("after-call", self._heard, unique_id=f"state-answered-{id(self)}")
            client.meta.events.register("before-send.s3.PutObject", self._sending,
                                        unique_id=f"state-writing-{id(self)}")
        return client

    def _heard(self, **_: Any) -> None:
        if not self._answered:
            self._answered = True
            # The client every later request goes through (the full retry budget) is built now, while the
            # run waits on the network, not when the run's summary is written after its last step.
            Background(lambda: self._client, name="state-client")

    def _sending(self, **_: Any) -> None:
        self.writing.set()

    # -- the bucket ----------------------------------------------------------------
    def ensure(self) -> None:
        """Make sure the bucket exists and is finished (before the first write of a run)."""
        if self._ready:
            return
        state = self._bucket_state()
        if state != "ready":
            if not self.owned:
                if state == "missing":
                    raise ConfigError(self._config_path, "[state] bucket",
                                      f"bucket {self.bucket} does not exist in this account; create it or "
                                      "remove the key to use tscloud's own state bucket")
            else:
                try:
                    self._make(create=state == "missing")
                except AwsError as exc:
                    raise AwsError(exc.operation, exc.code, f"making the state bucket {self.bucket}: {exc.aws_message}",
                                   "tscloud keeps its lock and journal there: allow these credentials to create and "
                                   "configure it, set [state] bucket to a bucket of yours, or [state] backend = "
                                   '"local"') from exc
        self._ready = True

    def _bucket_state(self) -> str:
        """'missing', 'unfinished' (no state tag yet) or 'ready'."""
        from botocore.exceptions import ClientError

        try:
            resp = self._client.get_bucket_tagging(Bucket=self.bucket)
        except ClientError as exc:
            code = error_code(exc)
            if code in ("NoSuchBucket", "404"):
                return "missing"
            if code in ("NoSuchTagSet", "NoSuchTagSetError"):
                return "unfinished"
            if code in ("AccessDenied", "403") and self.owned:
                raise AwsError("s3:GetBucketTagging", "BucketAlreadyExists",
                               f"the state bucket name {self.bucket} is taken by another account",
                               "set [state] bucket to a bucket of yours") from exc
            raise AwsError("s3:GetBucketTagging", code or "Unknown", str(exc)) from exc
        tags = {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}
        return "ready" if tags.get(STATE_TAG[0]) == STATE_TAG[1] or not self.owned else "unfinished"

    def _make(self, *, create: bool) -> None:
        s3 = S3(self.factory)
        if create:
            s3.create_bucket(self.bucket)
        s3.block_public_access(self.bucket)
        s3.enable_default_encryption(self.bucket)
        call(self._client.put_bucket_versioning, "s3:PutBucketVersioning", Bucket=self.bucket,
             VersioningConfiguration={"Status": "Enabled"})
        call(self._client.put_bucket_lifecycle_configuration, "s3:PutBucketLifecycleConfiguration",
             Bucket=self.bucket, LifecycleConfiguration={"Rules": [{
                 "ID": "expire-old-state-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
                 "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS}}]})
        s3.put_policy(self.bucket, tls_only_policy(self.bucket))
        s3.put_tags(self.bucket, {"tscloud:purpose": "state", STATE_TAG[0]: STATE_TAG[1]})

    # -- objects -----------------------------------------------------------------
    def get(self, key: str, *, unless: str | None = None) -> Stored | None:
        from botocore.exceptions import ClientError

        condition = {"IfNoneMatch": unless} if unless else {}
        try:
            resp = self._client.get_object(Bucket=self.bucket, Key=key, **condition)
        except ClientError as exc:
            if error_code(exc) in ("NoSuchKey", "NoSuchBucket", "404"):
                return None
            if unless and error_code(exc) in ("304", "NotModified"):
                return NOT_MODIFIED
            raise AwsError("s3:GetObject", error_code(exc) or "Unknown", str(exc)) from exc
        body = bytes(resp["Body"].read())
        # Objects are only ever written after ensure() finished the bucket: no need to look again.
        self._ready = True
        return Stored(body, str(resp.get("ETag", "")), _age(resp))

    def create(self, key: str, body: bytes) -> str:
        self.ensure()
        return self._put(key, body, IfNoneMatch="*")

    def replace(self, key: str, body: bytes, etag: str) -> str:
        return self._put(key, body, IfMatch=etag)

    def _put(self, key: str, body: bytes, **condition: str) -> str:
        from botocore.exceptions import ClientError

        try:
            resp = self._client.put_object(Bucket=self.bucket, Key=key, Body=body,
                                           ContentType="application/json", **condition)
        except ClientError as exc:
            code = error_code(exc)
            if code in CONFLICT_CODES or (code in ("NoSuchKey", "404") and "IfMatch" in condition):
                raise Conflict(key) from exc
            raise AwsError("s3:PutObject", code or "Unknown", str(exc)) from exc
        return str(resp.get("ETag", ""))

    def delete(self, key: str, etag: str | None = None) -> None:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag:
            kwargs["IfMatch"] = etag
        try:
            self._client.delete_object(**kwargs)
        except ClientError as exc:
            code = error_code(exc)
            if code in ("NoSuchKey", "NoSuchBucket", "404"):
                return
            if code in CONFLICT_CODES:
                raise Conflict(key) from exc
            raise AwsError("s3:DeleteObject", code or "Unknown", str(exc)) from exc

    def keys(self, prefix: str) -> list[str]:
        from botocore.exceptions import ClientError

        try:
            return [o["Key"] for o in paginate(self._client, "list_objects_v2", "Contents",
                                               Bucket=self.bucket, Prefix=prefix)]
        except (AwsError, ClientError) as exc:
            if getattr(exc, "code", None) == "NoSuchBucket" or error_code(exc) == "NoSuchBucket":
                return []
            raise


def tls_only_policy(bucket: str) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{bucket}"
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def _age(resp: dict[str, Any]) -> float:
    """Seconds since the object was written, by S3's own clock (its Date header) when it sends one."""
    modified = resp.get("LastModified")
    if modified is None:
        return 0.0
    now = time.time()
    date = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            now = email.utils.parsedate_to_datetime(date).timestamp()
    return max(now - modified.timestamp(), 0.0)
