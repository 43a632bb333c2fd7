"""Zone finding with the Public Suffix List, and name normalisation."""

from __future__ import annotations

import pytest

from tscloud_py.dns.names import (
    absolute_name,
    is_apex,
    normalize,
    registrable_domain,
    relative_name,
    to_unicode,
    zone_for,
)
from tscloud_py.errors import UsageError


@pytest.mark.parametrize(("name", "zone"), [
    ("api.shop.co.uk", "shop.co.uk"),          # "last two labels" would say co.uk
    ("shop.co.uk", "shop.co.uk"),
    ("www.example.com.au", "example.com.au"),
    ("a.b.c.d.example.com", "example.com"),    # deep subdomain
    ("example.com", "example.com"),            # apex
    ("api.example.co.jp", "example.co.jp"),
    ("*.example.com", "example.com"),
    ("_acme-challenge.api.example.com", "example.com"),
])
def test_zone_from_the_public_suffix_list(name: str, zone: str) -> None:
    assert zone_for(name) == zone
    assert registrable_domain(name) == zone


def test_apex_detection() -> None:
    assert is_apex("shop.co.uk")
    assert is_apex("Example.COM.")
    assert not is_apex("www.shop.co.uk")
    assert is_apex("api.example.com", zone="api.example.com")


def test_normalise_case_and_trailing_dot() -> None:
    assert normalize("API.Shop.Co.UK.") == "api.shop.co.uk"
    assert normalize("_3F2A.www.example.com.") == "_3f2a.www.example.com"


def test_idn_becomes_punycode() -> None:
    assert normalize("Bücher.example.de") == "xn--bcher-kva.example.de"
    assert zone_for("shop.münchen.de") == "xn--mnchen-3ya.de"
    assert zone_for("www.bücher.co.uk") == "xn--bcher-kva.co.uk"
    assert to_unicode("xn--bcher-kva.example.de") == "bücher.example.de"


def test_public_suffix_alone_is_refused() -> None:
    with pytest.raises(UsageError, match="public suffix"):
        registrable_domain("co.uk")


@pytest.mark.parametrize("bad", ["", ".", "a..b.com", "-bad-.example.com", "spa ce.example.com"])
def test_bad_names(bad: str) -> None:
    with pytest.raises(UsageError):
        normalize(bad)


def test_configured_zone_override() -> None:
    assert zone_for("api.eu.example.com", zone="eu.example.com") == "eu.example.com"
    with pytest.raises(UsageError, match="not inside the configured zone"):
        zone_for("api.other.com", zone="example.com")


def test_relative_and_absolute_names() -> None:
    assert relative_name("api.shop.co.uk", "shop.co.uk") == "api"
    assert relative_name("shop.co.uk", "shop.co.uk") == ""
    assert absolute_name("@", "shop.co.uk") == "shop.co.uk"
    assert absolute_name("api", "shop.co.uk") == "api.shop.co.uk"
    assert absolute_name("api.shop.co.uk", "shop.co.uk") == "api.shop.co.uk"
