"""How values read in text output: whole list items, word boundaries, JSON's true/false."""

from __future__ import annotations

import pytest

from tscloud_py.cli.ui import print_outputs
from tscloud_py.engine.step import Change


def test_a_changed_list_shows_whole_items_added_and_removed() -> None:
    page = {"ErrorCode": 403, "ResponsePagePath": "/index.html", "ResponseCode": "200", "ErrorCachingMinTTL": 10}
    other = {"ErrorCode": 404, "ResponsePagePath": "/not-found/index.html", "ResponseCode": "404"}
    text = Change("CustomErrorResponses", [page], [page, other]).describe()
    assert text == ('CustomErrorResponses: + {"ErrorCode": 404, "ResponseCode": "404", '
                    '"ResponsePagePath": "/not-found/index.html"}')
    assert Change("Aliases", ["a.example.com", "b.example.com"], ["b.example.com"]).describe() == \
        'Aliases: - "a.example.com"'


def test_a_long_value_ends_at_a_word_boundary() -> None:
    words = "the site for the spring sale with every product page and its reviews and its photos"
    text = Change("Comment", "old", words).describe()
    shown = text.split(" -> ", 1)[1]
    assert shown.endswith(" …")
    assert words.startswith(shown[:-2]) and words[len(shown) - 2] == " "


def test_text_outputs_print_json_booleans(capsys: pytest.CaptureFixture[str]) -> None:
    print_outputs({"streaming": True, "spa": False, "files": 3, "url": "https://x"})
    out = capsys.readouterr().out
    assert "streaming  true" in out and "spa        false" in out and "True" not in out
