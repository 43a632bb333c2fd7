"""The ssr-app example on the local emulator (issue 22, "Done means" 3): its page is rendered through the
local edge by the runtime client tscloud installed itself, from an empty cache (``installed_env``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_examples_local import copy_example, deploy, destroy_leaves_nothing, get


def test_ssr_app_renders_through_the_local_edge(tmp_path: Path, installed_env: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in installed_env.items():  # the CLI, and the emulator it starts, find only that install
        monkeypatch.setenv(key, value)
    project = copy_example("ssr-app", tmp_path)
    status, body = get(deploy(project)["url_local"])
    assert status == 200 and b"<h1>Hello from 127.0.0.1:" in body, body[:500]
    destroy_leaves_nothing(project, "shop")
