"""Pure name logic: normalising DNS names and finding the zone a name lives in.

Zones come from the Public Suffix List (the ``publicsuffixlist`` package ships
the list, so this works offline): ``api.shop.co.uk`` lives in ``shop.co.uk``,
not in ``co.uk`` as a "last two labels" rule would say.
"""

from __future__ import annotations

import functools
import re

import idna

from tscloud_py.errors import UsageError

_LABEL = re.compile(r"^(\*|_?[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?|_[a-z0-9_-]{1,62})$")


@functools.lru_cache(maxsize=1)
def _psl() -> object:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def normalize(name: str) -> str:
    """Lower case, no trailing dot, IDN labels in punycode (``xn--``).

    Underscore labels (``_acme-challenge``, ACM's ``_3f2a…``) and a leading
    ``*`` wildcard label are kept as they are.
    """
    text = name.strip().rstrip(".")
    if not text:
        raise UsageError(f"'{name}' is not a DNS name", "expected a name like www.example.com")
    labels = []
    for label in text.split("."):
        if not label:
            raise UsageError(f"'{name}' is not a DNS name: empty label", "expected a name like www.example.com")
        if label == "*" or label.startswith("_") or label.isascii():
            labels.append(label.lower())
            continue
        try:
            labels.append(idna.encode(label, uts46=True).decode("ascii"))
        except idna.IDNAError as exc:
            raise UsageError(f"'{name}' is not a valid internationalised domain name: {exc}") from exc
    result = ".".join(labels)
    if len(result) > 253 or not all(_LABEL.match(lbl) for lbl in labels):
        raise UsageError(f"'{name}' is not a valid DNS name", "expected a name like www.example.com")
    return result


def to_unicode(name: str) -> str:
    """The human form of a normalised name (punycode labels decoded), for display."""
    labels = []
    for label in name.split("."):
        if label.startswith("xn--"):
            try:
                labels.append(idna.decode(label))
                continue
            except idna.IDNAError:
                pass
        labels.append(label)
    return ".".join(labels)


def registrable_domain(name: str) -> str:
    """The registrable domain (public suffix + one label) of ``name``: the default zone."""
    norm = normalize(name)
    lookup = norm[2:] if norm.startswith("*.") else norm
    psl = _psl()
    found = psl.privatesuffix(lookup)  # type: ignore[attr-defined]
    if not found:
        raise UsageError(f"'{name}' is a public suffix, not a domain anyone can own",
                         "use a name under a registered domain, like www.example.co.uk")
    return str(found)


def zone_for(name: str, zone: str | None = None) -> str:
    """The zone ``name`` lives in: the configured ``zone`` if given, else from the Public Suffix List."""
    norm = normalize(name)
    if zone:
        z = normalize(zone)
        if norm != z and not norm.endswith("." + z):
            raise UsageError(f"'{norm}' is not inside the configured zone '{z}'",
                             "fix [dns] zone in tscloud.toml, or leave it out to use the registrable domain")
        return z
    return registrable_domain(norm)


def is_apex(name: str, zone: str | None = None) -> bool:
    """Whether ``name`` is the zone apex (``shop.co.uk`` in ``shop.co.uk``)."""
    return normalize(name) == zone_for(name, zone)


def relative_name(name: str, zone: str) -> str:
    """``name`` relative to ``zone``: ``api`` for api.example.com; ``""`` at the apex."""
    norm, z = normalize(name), normalize(zone)
    if norm == z:
        return ""
    if not norm.endswith("." + z):
        raise UsageError(f"'{norm}' is not inside the zone '{z}'")
    return norm[: -len(z) - 1]


def absolute_name(relative: str, zone: str) -> str:
    """The FQDN of a zone-relative name (``""`` or ``@`` is the apex)."""
    rel = relative.strip().rstrip(".")
    z = normalize(zone)
    if rel in ("", "@"):
        return z
    norm = normalize(rel)
    if norm == z or norm.endswith("." + z):
        return norm
    return f"{norm}.{z}"

