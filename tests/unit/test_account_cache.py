"""The account of an access key, remembered between runs (``aws/account_cache.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tscloud_py.aws.account_cache import MAX_ENTRIES, cached_account, remember_account


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def test_a_key_seen_before_names_its_account_at_its_endpoint_only(cache_home: Path) -> None:
    assert cached_account(None, "AKIAEXAMPLEKEY0001") is None
    remember_account(None, "AKIAEXAMPLEKEY0001", "111122223333")
    assert cached_account(None, "AKIAEXAMPLEKEY0001") == "111122223333"
    assert cached_account("http://127.0.0.1:5000", "AKIAEXAMPLEKEY0001") is None  # an emulator is another world
    assert cached_account(None, "AKIAEXAMPLEKEY0002") is None
    kept = (cache_home / "tscloud" / "accounts.json").read_text()
    assert "AKIAEXAMPLEKEY0001" not in kept  # a digest of the key, never the key
    assert (cache_home / "tscloud" / "accounts.json").stat().st_mode & 0o077 == 0


def test_a_torn_file_is_no_answer_and_the_newest_keys_are_kept(cache_home: Path) -> None:
    (cache_home / "tscloud").mkdir()
    (cache_home / "tscloud" / "accounts.json").write_text('{"x": ')
    assert cached_account(None, "AKIAEXAMPLEKEY0001") is None
    for n in range(MAX_ENTRIES + 5):
        remember_account(None, f"AKIAEXAMPLEKEY{n:04d}", "111122223333")
    assert cached_account(None, "AKIAEXAMPLEKEY0000") is None
    assert cached_account(None, f"AKIAEXAMPLEKEY{MAX_ENTRIES + 4:04d}") == "111122223333"
    remember_account(None, "AKIAEXAMPLEKEY0001", "not-an-account")
    assert cached_account(None, "AKIAEXAMPLEKEY0001") is None
