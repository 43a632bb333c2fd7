"""S3 conditional writes as AWS makes them: check and write in one step."""

from __future__ import annotations

import threading
from typing import Any


def apply() -> None:
    _atomic_conditional_writes()


def _atomic_conditional_writes() -> None:
    """In AWS a conditional PutObject/DeleteObject (``If-None-Match: *``, ``If-Match``) checks and writes
    atomically: of two racing writes to one key, one wins and the other gets 412 PreconditionFailed (or 409
    ConditionalRequestConflict).

    moto checks the condition, then writes, with nothing between: on its threaded server two racing
    ``If-None-Match: *`` writes can both succeed, so two runs would both take one lock. Every object write
    and delete runs under one lock here, so the check and the write are one step as in S3.
    """
    from moto.s3.responses import S3Response

    guard = threading.Lock()
    for name in ("put_object", "delete_object"):
        original = getattr(S3Response, name)

        def atomic(self: Any, _original: Any = original) -> Any:
            with guard:
                return _original(self)

        setattr(S3Response, name, atomic)
