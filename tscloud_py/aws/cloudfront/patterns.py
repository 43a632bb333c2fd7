"""CloudFront path patterns: ``*`` (any run of characters, ``/`` included) and ``?`` (one character).

Pure functions; used to place a new cache behavior in front of any existing
one that would shadow it.
"""

from __future__ import annotations

from collections.abc import Iterable


def normalize_pattern(pattern: str) -> str:
    """CloudFront treats ``images/*`` and ``/images/*`` alike."""
    return pattern if pattern.startswith("/") else "/" + pattern


def _closure(pattern: str, states: Iterable[int]) -> frozenset[int]:
    out: set[int] = set()
    stack = list(states)
    while stack:
        i = stack.pop()
        if i in out:
            continue
        out.add(i)
        if i < len(pattern) and pattern[i] == "*":
            stack.append(i + 1)
    return frozenset(out)


def _step(pattern: str, states: frozenset[int], ch: str) -> frozenset[int]:
    nxt: list[int] = []
    for i in states:
        if i >= len(pattern):
            continue
        p = pattern[i]
        if p == "*":
            nxt.append(i)
        elif p == "?" or p == ch:
            nxt.append(i + 1)
    return _closure(pattern, nxt)


def pattern_subsumes(general: str, specific: str) -> bool:
    """Whether every path ``specific`` matches is also matched by ``general``.

    ``*`` matches any run of characters (``/`` included) and ``?`` exactly one.
    Exact: both patterns become automata over the characters they name plus
    one stand-in for every other character, explored in product.
    """
    g, s = normalize_pattern(general), normalize_pattern(specific)
    literals = {c for c in g + s if c not in "*?"}
    other = next(c for c in ("\x00", "\x01", "\x02") if c not in literals)
    alphabet = [*sorted(literals), other]
    start = (_closure(s, [0]), _closure(g, [0]))
    seen = {start}
    queue = [start]
    while queue:
        s_states, g_states = queue.pop()
        if len(s) in s_states and len(g) not in g_states:
            return False
        for ch in alphabet:
            s_next = _step(s, s_states, ch)
            if not s_next:
                continue
            pair = (s_next, _step(g, g_states, ch))
            if pair not in seen:
                seen.add(pair)
                queue.append(pair)
    return True


def pattern_matches(pattern: str, path: str) -> bool:
    """Whether a request path matches a CloudFront path pattern."""
    p = normalize_pattern(pattern)
    states = _closure(p, [0])
    for ch in path:
        states = _step(p, states, ch)
        if not states:
            return False
    return len(p) in states
