"""Which account an access key belongs to, remembered between runs.

An access key belongs to one account for as long as it exists, so the answer of ``GetCallerIdentity``
for it never changes: a run whose credentials were seen before starts with the account known, one round
trip earlier (its first request, the lock, goes out at once). The file maps a digest of the endpoint and
the access key id (never the key itself, nor the secret) to the account id. Temporary credentials (a CI
job's role session) are new each run and are simply looked up again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os

from tscloud_py.user_cache import user_cache_dir

MAX_ENTRIES = 64  # the most recent keys; a file read on every run stays a few KB


def _entry(endpoint: str | None, access_key: str) -> str:
    return hashlib.sha256(f"{endpoint or 'aws'}\0{access_key}".encode()).hexdigest()[:32]


def _path() -> os.PathLike[str]:
    return user_cache_dir("accounts.json")


def _read() -> dict[str, str]:
    try:
        with open(_path()) as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: v for k, v in doc.items() if isinstance(k, str) and isinstance(v, str) and v.isdigit()}


def cached_account(endpoint: str | None, access_key: str | None) -> str | None:
    if not access_key:
        return None
    return _read().get(_entry(endpoint, access_key))


def remember_account(endpoint: str | None, access_key: str | None, account: str) -> None:
    """Keep it (atomically; a lost race with another run only costs that run's next lookup)."""
    if not access_key or not account.isdigit():
        return
    entries = _read()
    entries.pop(_entry(endpoint, access_key), None)
    entries[_entry(endpoint, access_key)] = account
    kept = dict(list(entries.items())[-MAX_ENTRIES:])
    path = user_cache_dir("accounts.json")
    tmp = path.with_name(f".accounts.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(kept, fh)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
