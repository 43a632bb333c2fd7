"""The presets are listed once (tscloud_py/config/preset_registry.py) and every reader agrees with it: the
loader finds each class, the config key and `--preset` accept exactly those names, and each has an
example."""

from __future__ import annotations

import importlib
from typing import get_args

import click
import pytest

from tests.conftest import REPO
from tscloud_py.config.fields import setting
from tscloud_py.config.preset_registry import PRESET_NAMES, PRESETS
from tscloud_py.config.schema import Config
from tscloud_py.presets import Preset


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_loads_and_has_an_example(name: str) -> None:
    module, _, cls = PRESETS[name].loader.partition(":")
    assert issubclass(getattr(importlib.import_module(module), cls), Preset)
    assert (REPO / "examples" / name / "tscloud.toml").is_file()
    info = PRESETS[name]
    assert set(info.init_tables) <= set(info.tables.required) | set(info.tables.optional) | {"dns"}


def test_config_key_and_every_preset_flag_accept_exactly_the_registry() -> None:
    from tscloud_py.cli.main import cli

    assert get_args(setting(Config, "preset").type) == PRESET_NAMES
    assert isinstance(cli, click.Group)
    for command in ("init", "plan", "deploy"):
        option = next(p for p in cli.get_command(click.Context(cli), command).params if "--preset" in getattr(p, "opts", ()))
        assert isinstance(option.type, click.Choice) and tuple(option.type.choices) == PRESET_NAMES
