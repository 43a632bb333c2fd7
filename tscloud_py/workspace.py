"""One app + stage opened for a command: config, preset, steps, journal, lock."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tscloud_py.engine.journal import Journal, atomic_write_json
from tscloud_py.engine.lock import RunLock
from tscloud_py.engine.step import Step, StepContext
from tscloud_py.presets import Preset, PresetOptions, load_preset

if TYPE_CHECKING:
    from tscloud_py.app import AppContext
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config_schema import Config
    from tscloud_py.engine.events import EventSink


@dataclass
class Workspace:
    app: AppContext
    config: Config
    aws: ClientFactory
    preset: Preset
    steps: list[Step]
    state_dir: Path
    journal: Journal

    @classmethod
    def open(cls, app: AppContext, options: PresetOptions | None = None) -> Workspace:
        config = app.config()
        preset_options = options or PresetOptions(verbose=app.verbose)
        aws = app.factory(config.region)
        preset = load_preset(config, aws, preset_options)
        steps = preset.steps()
        from tscloud_py.engine.graph import check_graph

        check_graph(steps)
        state_dir = app.state_dir(aws, config.app, config.stage)
        journal = Journal(state_dir / "journal.json", app=config.app, stage=config.stage, preset=config.preset)
        return cls(app, config, aws, preset, steps, state_dir, journal)

    @property
    def scope(self) -> str:
        return f"{self.config.app}-{self.config.stage} ({self.aws.region})"

    def lock(self, *, force: int = 0) -> RunLock:
        return RunLock(self.state_dir / "lock", scope=self.scope, force=force)

    def context(self, sink: EventSink) -> StepContext:
        return StepContext(self.config.app, self.config.stage, outputs={}, previous=self.journal.outputs(), sink=sink)

    def write_run_record(self, kind: str, record: dict[str, Any]) -> Path:
        """Keep a record of the run (steps, waits, requests) for timelines and benchmarks."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.app.project_dir / ".tscloud" / "deploys" / f"{stamp}-{kind}-{self.config.app}-{self.config.stage}.json"
        atomic_write_json(path, record)
        return path
