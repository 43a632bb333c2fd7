"""Where moto is wrong (not just lax): the fixes live in tscloud_py.emulator.fidelity, shared with the
embedded emulator; the session fixture in tests/conftest.py applies them. These names stay for the
tests that ask for a fix explicitly."""

from __future__ import annotations

import pytest

from tscloud_py.emulator.fidelity import patch_moto_fidelity


def aws_like_base_path_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_moto_fidelity()


def aws_like_v2_domain_names(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_moto_fidelity()
