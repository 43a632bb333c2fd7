"""fullstack-app's IAM roles carry the region; roles made before that are adopted only by their own region."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tests.preset_support import preset_step
from tscloud_py.config.load import config_from_dict
from tscloud_py.engine.step import StepContext
from tscloud_py.presets.fullstack_app.service import RolesStep

RAW = {"app": "shop", "preset": "fullstack-app", "api": {"image": "nginx:1.27", "port": 80}}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def roles_step(region: str, tmp_path: Path) -> tuple[RolesStep, StepContext]:
    config = config_from_dict(dict(RAW), "tscloud.toml", base_dir=tmp_path, region=region)
    log_arn = f"arn:aws:logs:{region}:123456789012:log-group:/ecs/shop-dev"
    ctx = StepContext(outputs={"logs": {"log_group_arn": log_arn}, "image": {"repository_arn": None}})
    return preset_step(config, "roles"), ctx


def deploy(step: RolesStep, ctx: StepContext) -> dict[str, Any]:
    observed = step.read(ctx)
    if step.diff(ctx, observed):
        return dict(step.apply(ctx, observed))
    return dict(step.outputs(ctx, observed))


def test_roles_per_region_and_old_names_adopted_by_their_region_only(aws: None, tmp_path: Path) -> None:
    east, east_ctx = roles_step("us-east-1", tmp_path)
    assert set(east.role_names().values()) == {"shop-dev-use1-exec", "shop-dev-use1-task"}
    old = east.role_names(legacy=True)
    assert set(old.values()) == {"shop-dev-exec", "shop-dev-task"}

    # A deployment from before the rename: the same roles under the old names, made by us-east-1.
    east._legacy = True
    made = east.apply(east_ctx, None)
    assert made["execution_role_arn"].endswith(":role/shop-dev-exec")

    again, again_ctx = roles_step("us-east-1", tmp_path)
    observed = again.read(again_ctx)
    assert observed is not None and again.diff(again_ctx, observed) == []  # adopted, nothing to write
    assert again.outputs(again_ctx, observed)["execution_role_arn"].endswith(":role/shop-dev-exec")

    # eu-west-1 sees roles whose policy writes us-east-1's log group: not its own, so it makes its own.
    west, west_ctx = roles_step("eu-west-1", tmp_path)
    assert west.read(west_ctx) is None
    assert deploy(west, west_ctx)["execution_role_arn"].endswith(":role/shop-dev-euw1-exec")
