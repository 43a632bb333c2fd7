"""The redaction registry, and every DNS provider's client fed error bodies that echo its credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.echo_api import ALTERATIONS, EchoApi, altered
from tscloud_py import redact
from tscloud_py.dns.base import DnsError, Provider
from tscloud_py.dns.http import ERROR_TEXT_LIMIT

CF_TOKEN = "cfTOKENsentinel0123456789abcdefABCDEFxyz"
GD_KEY = "gdKEYsentinel_0123456789abcdefABCDEF"
GD_SECRET = "gdSECRETsentinel_9876543210fedcbaZYXW"
GD_TOKEN = "gdPATsentinel.0123456789abcdefABCDEFghij"
PB_KEY = "pk1_PBKEYsentinel0123456789abcdefABCDEF"
PB_SECRET = "sk1_PBSECRETsentinel0123456789abcdefAB"
PIECE = 6  # no run of this many characters of a secret may be shown


def leaked(text: str, *secrets: str) -> list[str]:
    return [s[i:i + PIECE] for s in secrets for i in range(len(s) - PIECE + 1) if s[i:i + PIECE] in text]


def leaked_any_case(text: str, *secrets: str) -> list[str]:
    """Every ``redact.PIECE``-long run of a secret found in ``text``, letter case ignored."""
    lowered, n = text.lower(), redact.PIECE
    return [s[i:i + n] for s in secrets for i in range(len(s) - n + 1) if s[i:i + n].lower() in lowered]


def test_scrub_masks_every_registered_form() -> None:
    secret = "Pa55/word+with=odd&chars"
    redact.register(secret)
    text = (f"raw {secret} json {json.dumps(secret)} url {__import__('urllib.parse').parse.quote(secret, safe='')}"
            f" plus {__import__('urllib.parse').parse.quote_plus(secret)}")
    assert not leaked(redact.scrub(text), secret)
    assert redact.scrub_obj({"k": [secret, {secret: 1}], "n": 3}) == {"k": ["***", {"***": 1}], "n": 3}


def test_short_values_are_not_secrets_and_longest_masks_first() -> None:
    redact.register("abc")
    assert redact.scrub("abc") == "abc"
    redact.register("LONGsecretPART")
    redact.register("LONGsecretPART-and-more")
    assert redact.scrub("x LONGsecretPART-and-more y") == "x *** y"


@pytest.mark.parametrize("alter", ALTERATIONS)
def test_an_altered_echo_shows_no_piece_of_the_secret(alter: str) -> None:
    secret = "alteredECHOsentinel0123456789abcdefGHIJ"
    redact.register(secret)
    for half in (0, 1):
        echoed = altered(f"token: {secret}; json: {json.dumps({'t': secret})}", alter, half)
        shown = redact.scrub(echoed)
        assert not leaked_any_case(shown, secret), (alter, shown)
        assert shown.startswith("token: ***")


def test_ordinary_text_beside_a_secret_is_kept() -> None:
    redact.register("keptTEXTsentinel0123456789")
    assert redact.scrub("deploy finished in 3.1s: 4 created, 0 updated") == \
        "deploy finished in 3.1s: 4 created, 0 updated"
    # a shorter run than PIECE is ordinary text, even when it is part of a secret
    assert redact.scrub("keptTEX and sentine") == "keptTEX and sentine"


def test_cut_scrubs_before_shortening() -> None:
    secret = "straddleSECRET0123456789"
    redact.register(secret)
    for offset in range(0, 40):
        shown = redact.cut("y" * offset + secret + " tail", 30)
        assert not leaked(shown, secret), (offset, shown)


def _provider(name: str, url: str) -> tuple[Provider, tuple[str, ...]]:
    sleep: Any = lambda _s: None  # noqa: E731 - no real waiting between retries of a 500
    if name == "cloudflare":
        from tscloud_py.dns.cloudflare import CloudflareProvider

        return CloudflareProvider(token=CF_TOKEN, base_url=url + "/client/v4", sleep=sleep), (CF_TOKEN,)
    if name == "godaddy-key":
        from tscloud_py.dns.godaddy import GoDaddyProvider

        return GoDaddyProvider(api_key=GD_KEY, api_secret=GD_SECRET, base_url=url, sleep=sleep), (GD_KEY, GD_SECRET)
    if name == "godaddy-token":
        from tscloud_py.dns.godaddy import GoDaddyProvider

        return GoDaddyProvider(token=GD_TOKEN, base_url=url, sleep=sleep), (GD_TOKEN,)
    from tscloud_py.dns.porkbun import PorkbunProvider

    return PorkbunProvider(api_key=PB_KEY, secret_key=PB_SECRET, base_url=url + "/api/json/v3",
                           sleep=sleep), (PB_KEY, PB_SECRET)


@pytest.fixture(params=[400, 500])
def echo(request: pytest.FixtureRequest) -> Iterator[EchoApi]:
    api = EchoApi(status=request.param)
    with api.running():
        yield api


@pytest.mark.parametrize("shape", ["text", "json"])
@pytest.mark.parametrize("name", ["cloudflare", "godaddy-key", "godaddy-token", "porkbun"])
def test_provider_errors_never_show_a_piece_of_a_credential(name: str, shape: str, echo: EchoApi) -> None:
    """The echo walks across the message cut (and the start): no offset shows any piece of a credential."""
    echo.shape = shape
    provider, secrets = _provider(name, echo.url)
    # The prefix a provider's error text puts before the body moves the cut; cover it generously.
    for offset in [*range(0, 8), *range(ERROR_TEXT_LIMIT - 120, ERROR_TEXT_LIMIT + 8)]:
        echo.offset = offset
        with pytest.raises(DnsError) as caught:
            provider.find_zone("www.example.com")
        err = caught.value
        shown = f"{err} {err.hint} {err!r}"
        assert not leaked(shown, *secrets), (offset, shown)
    assert echo.requests > 0


@pytest.mark.parametrize("alter", [a for a in ALTERATIONS if a != "exact"])
@pytest.mark.parametrize("shape", ["text", "json"])
@pytest.mark.parametrize("name", ["cloudflare", "godaddy-key", "porkbun"])
def test_provider_errors_with_an_altered_echo_show_no_piece(name: str, shape: str, alter: str,
                                                             echo: EchoApi) -> None:
    """An API that echoes the credentials cut short, less one character, upper-cased or split in two."""
    echo.shape, echo.alter = shape, alter
    provider, secrets = _provider(name, echo.url)
    with pytest.raises(DnsError) as caught:
        provider.find_zone("www.example.com")
    err = caught.value
    shown = f"{err} {err.hint} {err!r}"
    assert "***" in shown
    assert not leaked_any_case(shown, *secrets), shown


def test_a_structured_secret_is_masked_whole_not_by_its_words() -> None:
    document = '{"engine": "postgres", "username": "appuser", "password": "structuredSECRET0123"}'
    redact.register(document)
    assert redact.scrub(f"value {document} end") == "value *** end"
    assert redact.scrub("engine postgres for appuser") == "engine postgres for appuser"
