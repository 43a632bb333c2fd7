"""Which host names are this machine's loopback.

The client factory asks it of every run's endpoint (a loopback endpoint without credentials gets the
emulator's), the emulator's guard of every request's Host, and `cloudfront add-origin` of a domain. It is
a leaf of its own, not part of ``loopback.py``, which serves HTTP and so loads ``http.server``: a deploy
that only asks about its endpoint does not pay for a server it never starts.
"""

from __future__ import annotations


def is_loopback_host(host: str) -> bool:
    """Whether a Host header (or URL host) names this machine's loopback: 127.x, ::1, localhost, *.localhost."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    return name in ("localhost", "::1") or name.startswith("127.") or name.endswith(".localhost")
