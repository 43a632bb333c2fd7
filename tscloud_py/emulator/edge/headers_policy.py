"""Response headers policies: the headers CloudFront adds to what the origin returned.

The managed policies are AWS's published sets (name, id, header, value, and
whether the policy's value overrides one the origin sent). The emulator has no
custom response headers policies, so those are reported, not applied.
"""

from __future__ import annotations

from dataclasses import dataclass

_SECURITY = (
    ("Referrer-Policy", "strict-origin-when-cross-origin", False),
    ("Strict-Transport-Security", "max-age=31536000", False),
    ("X-Content-Type-Options", "nosniff", True),
    ("X-Frame-Options", "SAMEORIGIN", False),
    ("X-XSS-Protection", "1; mode=block", False),
)
_SIMPLE_CORS = (("Access-Control-Allow-Origin", "*", False),)


@dataclass(frozen=True)
class HeadersPolicy:
    name: str
    headers: tuple[tuple[str, str, bool], ...]  # (name, value, override the origin's)


MANAGED = {
    "67f7725c-6f97-4210-82d7-5512b31e9d03": HeadersPolicy("SecurityHeadersPolicy", _SECURITY),
    "60669652-455b-4ae9-85a4-c4c02393f86c": HeadersPolicy("SimpleCORS", _SIMPLE_CORS),
    "e61eb60c-9c35-4d20-a928-2b84e02af89c": HeadersPolicy("CORS-and-SecurityHeadersPolicy",
                                                          _SIMPLE_CORS + _SECURITY),
}


def apply_policy(policy: HeadersPolicy, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response headers after ``policy``; header names compare case-insensitively."""
    out = list(headers)
    for name, value, override in policy.headers:
        present = any(k.lower() == name.lower() for k, _ in out)
        if present and not override:
            continue
        out = [(k, v) for k, v in out if k.lower() != name.lower()]
        out.append((name, value))
    return out
