"""One step of a preset, made as the preset makes it: tests of a step get its clients, names and references
from the preset's own graph, never by assembling the step themselves."""

from __future__ import annotations

from typing import Any

from tscloud_py.aws.session import ClientFactory
from tscloud_py.config.schema import Config
from tscloud_py.presets import PresetOptions, load_preset


def preset_step(config: Config, step_id: str, options: PresetOptions | None = None) -> Any:
    """The step ``step_id`` of ``config``'s preset, in ``config``'s region."""
    steps = load_preset(config, ClientFactory(region=config.region), options).steps()
    return next(s for s in steps if s.id == step_id)
