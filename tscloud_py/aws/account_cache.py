"""Which account an access key belongs to, remembered between runs.

An access key belongs to one account for as long as it exists, so the answer of ``GetCallerIdentity``
for it never changes: a run whose credentials were seen before starts with the account known, one round
trip earlier (its first request, the lock, goes out at once). The file maps a digest of the endpoint and
the access key id (never the key itself, nor the secret) to the account id. Temporary credentials (a CI
job's role session) are new each run and are simply looked up again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tscloud_py.files import write_whole
from tscloud_py.user_cache import user_cache_dir

MAX_ENTRIES = 64  # the most recent keys; a file read on every run stays a few KB


def _entry(endpoint: str | None, access_key: str) -> str:
    return hashlib.sha256(f"{endpoint or 'aws'}\0{access_key}".encode()).hexdigest()[:32]


def _path() -> Path:
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
    write_whole(_path(), json.dumps(kept).encode())
