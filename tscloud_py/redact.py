"""The one registry of secrets this process holds, and the scrubber every output path runs.

A secret is registered once, where it enters the process (a provider token read from the
environment, the ECR password, a value read from Secrets Manager, a generated password, the
origin-verify value). Every message, log line, exception text and JSON document is passed
through ``scrub`` before it is printed, and before anything cuts it short: cutting first would
leave the head of a secret that straddles the cut in plain sight.

Besides the raw value, the forms a secret takes when it is quoted into a JSON document, a URL
or an HTTP Basic header are registered too, since error bodies echo requests in those forms. An echo
need not be exact: an API may cut a value short, drop its last character, upper-case it or split it
across two fields. So any run of ``PIECE`` or more characters of a form, in any letter case, is masked,
not only the whole form.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from typing import Any

MASK = "***"

# Shorter values are not credentials (and masking them would garble ordinary text).
MIN_LENGTH = 6
# The shortest run of a secret masked wherever it appears (a shorter one could be a common word).
PIECE = 8

# A value masked by its pieces is a token: one run of characters. A structured value (a JSON document of
# a user's secret: keys, an engine name, a host) is masked whole, or its pieces would mask ordinary words.
_TOKEN = re.compile(r"[^\s{}\[\]\"',;:]+")

_lock = threading.Lock()
_secrets: set[str] = set()  # the forms masked whole: shorter than PIECE, or of a structured value
_tokens: set[str] = set()  # the forms masked by their pieces
# every PIECE-long run of every token form, lower-cased; the forms masked whole, longest first
_pieces: frozenset[str] = frozenset()
_short: tuple[str, ...] = ()
# runs of the characters secrets are made of, PIECE or longer: only those are looked into (fast in C)
_runs: re.Pattern[str] | None = None


def _forms(secret: str) -> set[str]:
    forms = {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
             urllib.parse.quote_plus(secret), base64.b64encode(secret.encode()).decode().rstrip("=")}
    return {f for f in forms if len(f) >= MIN_LENGTH}


def register(secret: str | None) -> None:
    """Remember ``secret`` (and its quoted forms) so ``scrub`` masks it everywhere from now on."""
    global _pieces, _short, _runs
    if not secret or len(secret) < MIN_LENGTH:
        return
    with _lock:
        new = _forms(secret) - _secrets - _tokens
        if not new:
            return
        if _TOKEN.fullmatch(secret):
            # all of a token's forms are masked by their pieces (a quoted form of a document is not a token)
            _tokens.update(f for f in new if len(f) >= PIECE)
            _pieces = _pieces | {_lower(f)[i:i + PIECE] for f in new if f in _tokens
                                 for i in range(len(f) - PIECE + 1)}
        _secrets.update(f for f in new if f not in _tokens)
        _short = tuple(sorted(_secrets, key=len, reverse=True))
        alphabet = {c for f in _tokens for c in f + f.lower() + f.upper()}
        _runs = re.compile("[" + "".join(re.escape(c) for c in sorted(alphabet)) + "]{" + str(PIECE) + ",}") \
            if alphabet else None


def _lower(text: str) -> str:
    """``text`` lower-cased character by character, so positions in it are positions in ``text``."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def scrub(text: str) -> str:
    """``text`` with every run of ``PIECE`` or more characters of a registered token (any case) masked,
    each maximal run once; a shorter or structured secret is masked where it appears whole."""
    pieces, short, runs = _pieces, _short, _runs
    for secret in short:
        if secret in text:
            text = text.replace(secret, MASK)
    if runs is None or len(text) < PIECE:
        return text
    spans: list[list[int]] = []
    for run in runs.finditer(text):
        lowered = _lower(run.group())
        for i in range(len(lowered) - PIECE + 1):
            if lowered[i:i + PIECE] in pieces:
                at = run.start() + i
                if spans and at <= spans[-1][1]:
                    spans[-1][1] = at + PIECE
                else:
                    spans.append([at, at + PIECE])
    if not spans:
        return text
    out: list[str] = []
    at = 0
    for start, end in spans:
        out.append(text[at:start])
        out.append(MASK)
        at = end
    out.append(text[at:])
    return "".join(out)


def scrub_obj(value: Any) -> Any:
    """A copy of a JSON-like value with every string (keys too) scrubbed."""
    if not _secrets and not _tokens:
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
    return len(_secrets) + len(_tokens)
