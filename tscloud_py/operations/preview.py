"""The preview pipelines: setup (the host), deploy and destroy (one stage, under its own journal and lock),
list and prune. Setup, deploy and destroy are the plan/deploy/destroy pipelines, opened on a ``Target``."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from tscloud_py.config.tables.preview import NAME_HELP, NAME_PATTERN
from tscloud_py.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from tscloud_py.config.schema import Config, PreviewConfig
    from tscloud_py.operations.context import AppContext
    from tscloud_py.operations.pipelines import (
        DeployRequest,
        DestroyRequest,
        Face,
        PlanOutcome,
        RunOutcome,
    )
    from tscloud_py.operations.workspace import Target

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def checked_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise UsageError(f"NAME: {name!r} is not a preview stage name; {NAME_HELP}")
    return name


def parse_age(text: str) -> float:
    """``14d``, ``36h``, ``2w`` -> seconds."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"--older-than: expected a positive age like 14d, 36h or 2w, got {text!r}")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def preview_config(config: Config) -> PreviewConfig:
    """The [preview] table of a config whose own stage is apart from the preview host's and stages' (their
    journals, locks and names would be one)."""
    from tscloud_py.presets.preview.common import HOST_STAGE, STAGE_PREFIX, preview_table

    table = preview_table(config)
    if config.stage == HOST_STAGE or config.stage.startswith(STAGE_PREFIX):
        raise ConfigError(config.path, "stage", f"{config.stage!r} is where `tscloud preview` keeps its host "
                          f"({HOST_STAGE!r}) and stages ({STAGE_PREFIX}NAME); name the stage otherwise")
    return table


def host_target(config: Config) -> Target:
    from tscloud_py.operations.workspace import Target
    from tscloud_py.presets.preview.common import HOST_STAGE
    from tscloud_py.presets.preview.host import PreviewHost

    preview_config(config)
    return Target(dataclasses.replace(config, stage=HOST_STAGE), PreviewHost)


def stage_target(config: Config, name: str) -> Target:
    from tscloud_py.operations.workspace import Target
    from tscloud_py.presets.preview.common import stage_of
    from tscloud_py.presets.preview.stage import PreviewStage

    preview_config(config)
    return Target(dataclasses.replace(config, stage=stage_of(checked_name(name))), partial(PreviewStage, name=name))


def setup(app: AppContext, face: Face, request: DeployRequest) -> RunOutcome:
    from tscloud_py.operations import pipelines

    return pipelines.deploy(app, face, request, host_target(app.config()))


def plan_setup(app: AppContext, face: Face) -> PlanOutcome:
    from tscloud_py.operations import pipelines

    return pipelines.plan(app, face, host_target(app.config()))


def deploy(app: AppContext, face: Face, name: str, request: DeployRequest) -> RunOutcome:
    from tscloud_py.operations import pipelines

    return pipelines.deploy(app, face, request, stage_target(app.config(), name))


def destroy(app: AppContext, face: Face, name: str, request: DestroyRequest) -> RunOutcome:
    from tscloud_py.operations import pipelines

    return pipelines.destroy(app, face, request, stage_target(app.config(), name))


@dataclass(frozen=True)
class StageRow:
    name: str
    url: str
    size: int  # bytes under its prefix
    files: int
    deployed_at: int | None  # epoch seconds of its last key write

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def list_stages(app: AppContext) -> list[StageRow]:
    """Every stage with a key in the store: its URL, its files' size and its last deploy. One listing of the
    store, and the prefixes' listings at once."""
    import json

    from tscloud_py.aws.cloudfront.kvs import KeyValueStores
    from tscloud_py.aws.s3 import S3
    from tscloud_py.concurrency import each
    from tscloud_py.presets.preview.common import host_names, preview_table, stage_prefix

    config = app.config()
    domain = preview_table(config).domain.lower().rstrip(".")
    aws = app.factory(config.region)
    names = host_names(config, aws.region)
    kvs = KeyValueStores(aws)
    store = kvs.find(names.regional("routes"))
    if store is None:
        raise UsageError(f"preview: no preview host for {config.app} in {aws.region}",
                         "run `tscloud preview setup` first")
    suffix = "." + domain
    stages: dict[str, int | None] = {}
    for key, value in kvs.items(store.arn).items():
        if not key.endswith(suffix):
            continue
        try:
            at = json.loads(value).get("t")
        except (ValueError, AttributeError):
            at = None
        stages[key[: -len(suffix)]] = int(at) if isinstance(at, (int, float)) else None
    s3 = S3(aws)
    bucket = names.bucket(aws.account_id())

    def measure(name: str) -> StageRow:
        objects = [o for o in s3.list_objects(bucket, stage_prefix(name)) if not o.key.startswith(
            stage_prefix(name) + "_tscloud/")]
        return StageRow(name, f"https://{name}{suffix}", sum(o.size for o in objects), len(objects), stages[name])

    return sorted(each(sorted(stages), measure), key=lambda r: r.name)


def stale(rows: list[StageRow], older_than: float, now: float | None = None) -> list[StageRow]:
    """The stages last deployed more than ``older_than`` seconds ago (a stage with no time is not pruned)."""
    cutoff = (now if now is not None else time.time()) - older_than
    return [r for r in rows if r.deployed_at is not None and r.deployed_at < cutoff]
