"""The one registry of secrets this process holds, and the scrubber every output path runs.

A secret is registered once, where it enters the process (a provider token read from the
environment, the ECR password, a value read from Secrets Manager, a generated password, the
origin-verify value). Every message, log line, exception text and JSON document is passed
through ``scrub`` before it is printed, and before anything cuts it short: cutting first would
leave the head of a secret that straddles the cut in plain sight.

Besides the raw value, the forms a secret takes when it is quoted into a JSON document, a URL
or an HTTP Basic header are registered too, since error bodies echo requests in those forms.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from typing import Any

MASK = "***"

# Shorter values are not credentials (and masking them would garble ordinary text).
MIN_LENGTH = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()


def _forms(secret: str) -> set[str]:
    forms = {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret), base64.b64encode(secret.encode()).decode().rstrip("=")}
    return {f for f in forms if len(f) >= MIN_LENGTH}


def register(secret: str | None) -> None:
    """Remember ``secret`` (and its quoted forms) so ``scrub`` masks it everywhere from now on."""
    global _ordered
    if not secret or len(secret) < MIN_LENGTH:
        return
    with _lock:
        before = len(_secrets)
        _secrets.update(_forms(secret))
        if len(_secrets) != before:
            # longest first: a secret that contains another is masked whole
            _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def scrub(text: str) -> str:
    """``text`` with every registered secret masked."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def scrub_obj(value: Any) -> Any:
    """A copy of a JSON-like value with every string (keys too) scrubbed."""
    if not _ordered:
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub_obj(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_obj(v) for v in value]
    return value


def cut(text: str, limit: int) -> str:
    """Scrub, then shorten to ``limit`` characters (with an ellipsis when shortened)."""
    text = scrub(text)
    return text if len(text) <= limit else text[:limit] + "…"


def registered() -> int:
    """How many secret forms are held (for tests and -v)."""
    return len(_secrets)
