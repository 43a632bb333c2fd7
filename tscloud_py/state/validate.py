"""What a journal or a lock record read back from the state store may be: its schema, checked on read.

The state bucket is a cache anyone with write access to it can change, so nothing read from it is
trusted to be well formed: a document that is too large, nested too deep, of the wrong types or another
stage's is refused here with one line saying why (``Malformed``), and the caller sets it aside or
reports it. The bounds are far above what tscloud writes (a journal is a few KB per step).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MAX_JOURNAL_BYTES = 16 * 1024 * 1024
MAX_LOCK_BYTES = 16 * 1024
# JSON nesting: a journal's outputs are flat records of ids, lists of ids, or small tables
MAX_DEPTH = 32
MAX_STRING = 1024 * 1024
# far more step records than any preset's graph has (a config that dropped steps leaves theirs behind)
MAX_STEPS = 2000
MAX_STEP_ID = 200
# a lease longer than a day is no lease: a holder that died would block the stage for as long
MAX_LEASE_SECONDS = 86400.0
LOCK_TEXT_FIELDS = ("run", "host", "user", "command", "started", "renewed")
MAX_LOCK_TEXT = 1024


class Malformed(ValueError):
    """A stored document that breaks its schema; the message completes "the journal ..." or "the lock ..."."""


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a local state file (``files.read_regular``); ``Malformed`` when it is not one."""
    from tscloud_py.files import Unreadable, read_regular

    try:
        return read_regular(path, limit)
    except Unreadable as exc:
        raise Malformed(str(exc)) from None


def parse(body: bytes, limit: int) -> Any:
    """``body`` as JSON, within ``limit`` bytes and ``MAX_DEPTH`` levels, its strings within ``MAX_STRING``."""
    if len(body) > limit:
        raise Malformed(f"is {_size(len(body))}, more than {_size(limit)}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("is not UTF-8 text") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise Malformed(f"nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise Malformed("is not valid JSON") from None
    _check_tree(value)
    return value


def _check_tree(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Malformed(f"nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, str):
            if len(node) > MAX_STRING:
                raise Malformed(f"holds a text of {_size(len(node))}, more than {_size(MAX_STRING)}")
        elif isinstance(node, float) and not math.isfinite(node):
            raise Malformed("holds a number that is not finite")
        elif isinstance(node, dict):
            for key, item in node.items():
                if len(key) > MAX_STRING:
                    raise Malformed("holds a key that is too long")
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)


def journal(doc: Any, *, app: str, stage: str) -> dict[str, Any] | None:
    """``doc`` (a journal as ``parse`` read it) checked as this stage's journal; None for another
    version's journal (not read, overwritten at the next record) or none at all. Raises ``Malformed``."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise Malformed("is not a JSON object")
    if doc.get("version") != 1:
        return None
    for key, expected in (("app", app), ("stage", stage)):
        if key in doc and doc[key] != expected:
            raise Malformed(f"belongs to another stage ({key} {_short(doc[key])}, not {expected!r})")
    steps = doc.get("steps", {})
    if not isinstance(steps, dict):
        raise Malformed("has steps that are not a table")
    if len(steps) > MAX_STEPS:
        raise Malformed(f"has {len(steps)} step records, more than any stage has")
    for sid, record in steps.items():
        if len(sid) > MAX_STEP_ID:
            raise Malformed("has a step id that is too long")
        if not isinstance(record, dict) or not isinstance(record.get("outputs", {}), dict) \
                or not isinstance(record.get("status", ""), str) or not isinstance(record.get("at", ""), str):
            raise Malformed(f"has a record for step {sid!r} of the wrong type")
    if doc.get("last_run") is not None and not isinstance(doc["last_run"], dict):
        raise Malformed("has a last run of the wrong type")
    if doc.get("interrupted") is not None and not isinstance(doc["interrupted"], dict):
        raise Malformed("has an interruption mark of the wrong type")
    return doc


def lock_record(body: bytes) -> dict[str, Any]:
    """A stored lock's record (the holder's fields, ``lease_seconds``, ``renewed``), checked. Raises
    ``Malformed``; fields tscloud does not write are kept as they are."""
    doc = parse(body, MAX_LOCK_BYTES)
    if not isinstance(doc, dict):
        raise Malformed("is not a JSON object")
    for key in LOCK_TEXT_FIELDS:
        if key in doc and not (isinstance(doc[key], str) and len(doc[key]) <= MAX_LOCK_TEXT):
            raise Malformed(f"has a {key} that is not a short text")
    pid = doc.get("pid", 0)
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid < 2**31:
        raise Malformed("has a pid that is not a process id")
    if "lease_seconds" in doc:
        if isinstance(doc["lease_seconds"], str):
            raise Malformed("has a lease_seconds that is a text, not a number")
        lease_seconds(doc["lease_seconds"], "lease_seconds")
    return doc


def lease_seconds(value: Any, name: str) -> float:
    """A lease length: a finite number of seconds from 1 to a day. Raises ``Malformed`` naming ``name``."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise Malformed(f"{name} is {_short(value)}, not a number of seconds") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 1 <= value <= MAX_LEASE_SECONDS:
        raise Malformed(f"{name} is {_short(value)}; expected seconds from 1 to {MAX_LEASE_SECONDS:.0f}")
    return float(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"
