"""CloudFront KeyValueStore: the store itself (CloudFront's control plane) and its keys (the
``cloudfront-keyvaluestore`` data plane).

Every key write names the store's current ETag (``IfMatch``); a writer that lost the race to another
(ConflictException) reads the ETag again and writes again, a bounded number of times, as the
distribution's ETag round trip does. The key it writes is its own, so nobody's write is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tscloud_py.aws.retry import codes, create_or_adopt, jittered, retrying
from tscloud_py.aws.session import ClientFactory, call, ignoring, paginate
from tscloud_py.aws.waiters import Clock, Poll, ProgressCallback, SystemClock, WaitPolicy, wait_for
from tscloud_py.errors import AwsError

_log = logging.getLogger("tscloud.kvs")

# AWS's limits (CloudFront Developer Guide, "Quotas", key value stores): what preflight checks before a write.
MAX_STORE_BYTES = 5 * 1024 * 1024
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 1024
# Writers of different keys at once (twenty CI jobs) each lose a race now and then: enough tries that all
# of them get through, with a random wait so that they do not collide again in step.
WRITE_ATTEMPTS = 40


@dataclass(frozen=True)
class StoreInfo:
    """The store as CloudFront describes it (the control plane)."""

    name: str
    id: str
    arn: str
    status: str
    etag: str


@dataclass(frozen=True)
class StoreData:
    """The store's contents as the data plane describes them."""

    etag: str
    items: int
    size: int


def entry_size(key: str, value: str) -> int:
    """What one entry adds to the store's size: its key and value in UTF-8 bytes."""
    return len(key.encode()) + len(value.encode())


class KeyValueStores:
    def __init__(self, factory: ClientFactory, clock: Clock | None = None) -> None:
        self.factory = factory
        self.clock: Clock = clock or SystemClock()

    @property
    def _cf(self) -> Any:
        return self.factory.client("cloudfront", "us-east-1")

    @property
    def _data(self) -> Any:
        return self.factory.client("cloudfront-keyvaluestore", "us-east-1")

    # -- the store ------------------------------------------------------------------------------------
    def find(self, name: str) -> StoreInfo | None:
        with ignoring("EntityNotFound"):
            resp = call(self._cf.describe_key_value_store, "cloudfront:DescribeKeyValueStore", Name=name)
            return _info(resp["KeyValueStore"], str(resp.get("ETag") or ""))
        return None

    def create(self, name: str, comment: str) -> StoreInfo:
        """Sent once; after a lost answer the store of this name is adopted (names are unique)."""
        def create() -> StoreInfo:
            resp = call(self.factory.client("cloudfront", "us-east-1", once=True).create_key_value_store,
                        "cloudfront:CreateKeyValueStore", Name=name, Comment=comment)
            return _info(resp["KeyValueStore"], str(resp.get("ETag") or ""))

        return create_or_adopt(create, lambda: self.find(name), "cloudfront:CreateKeyValueStore",
                               exists=("EntityAlreadyExists",))

    def wait_ready(self, name: str, *, progress: ProgressCallback | None = None, clock: Clock | None = None) -> None:
        def check() -> Poll[str]:
            found = self.find(name)
            status = found.status if found else "absent"
            return Poll.finished(status) if status == "READY" else Poll.pending(status)

        wait_for(check, what=f"key value store {name} READY", policy=WaitPolicy(timeout=10 * 60),
                 clock=clock or self.clock, progress=progress)

    def delete(self, name: str) -> None:
        with ignoring("EntityNotFound"):
            found = self.find(name)
            if found is not None:
                call(self._cf.delete_key_value_store, "cloudfront:DeleteKeyValueStore", Name=name,
                     IfMatch=found.etag)

    # -- its keys -------------------------------------------------------------------------------------
    def describe(self, arn: str) -> StoreData:
        resp = call(self._data.describe_key_value_store, "cloudfront-keyvaluestore:DescribeKeyValueStore",
                    KvsARN=arn)
        return StoreData(str(resp["ETag"]), int(resp.get("ItemCount") or 0), int(resp.get("TotalSizeInBytes") or 0))

    def get(self, arn: str, key: str) -> str | None:
        with ignoring("ResourceNotFoundException"):
            resp = call(self._data.get_key, "cloudfront-keyvaluestore:GetKey", KvsARN=arn, Key=key)
            return str(resp["Value"])
        return None

    def items(self, arn: str) -> dict[str, str]:
        """Every key and its value, across all pages (50 a page, the most ListKeys gives)."""
        return {i["Key"]: i["Value"] for i in paginate(self._data, "list_keys", "Items", KvsARN=arn,
                                                       PaginationConfig={"PageSize": 50})}

    def put(self, arn: str, key: str, value: str, *, etag: str | None = None,
            notify: Callable[[str], None] | None = None) -> StoreData:
        """Write ``key`` with the store's current ETag; re-read and write again after a conflict. ``etag``: one
        read a moment ago, tried first (a conflict costs what the read would have)."""
        def write(etag: str) -> Any:
            return call(self._data.put_key, "cloudfront-keyvaluestore:PutKey", KvsARN=arn, Key=key, Value=value,
                        IfMatch=etag)

        return self._conditional(arn, key, write, notify, etag)

    def delete_key(self, arn: str, key: str, *, notify: Callable[[str], None] | None = None) -> StoreData | None:
        """Remove ``key`` (conditional, retried like ``put``); None when it was not there."""
        def write(etag: str) -> Any:
            return call(self._data.delete_key, "cloudfront-keyvaluestore:DeleteKey", KvsARN=arn, Key=key,
                        IfMatch=etag)

        with ignoring("ResourceNotFoundException"):
            return self._conditional(arn, key, write, notify)
        return None

    def _conditional(self, arn: str, key: str, write: Callable[[str], Any],
                     notify: Callable[[str], None] | None, known: str | None = None) -> StoreData:
        policy = retrying(codes("ConflictException"), what=f"key value store changed while writing {key}",
                          attempts=WRITE_ATTEMPTS, waits=lambda n: jittered(0.02, min(1.0, 0.05 * n)),
                          sleep=self.clock.sleep)
        for attempt in policy:
            with attempt:
                number = attempt.retry_state.attempt_number
                etag = known if known and number == 1 else self.describe(arn).etag
                try:
                    resp = write(etag)
                except AwsError as exc:
                    if exc.code == "ConflictException":
                        message = f"key value store changed since we read it (ETag {etag}); re-reading to write {key}"
                        _log.info(message)
                        if notify is not None:
                            notify(message)
                    raise
                return StoreData(str(resp["ETag"]), int(resp.get("ItemCount") or 0),
                                 int(resp.get("TotalSizeInBytes") or 0))
        raise AssertionError("unreachable: tenacity re-raises the last error")


def _info(store: dict[str, Any], etag: str) -> StoreInfo:
    return StoreInfo(str(store["Name"]), str(store["Id"]), str(store["ARN"]), str(store.get("Status") or ""), etag)
