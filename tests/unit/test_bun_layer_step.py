"""The worker's Bun layer is published in the request (PublishLayerVersion's ZipFile, at most 50 MiB): a
release whose layer is larger is refused while planning, naming queue.worker_bun_version, so a deploy stops
before its first write instead of failing at the layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_preset_needs import FULLSTACK_LAMBDA_WORKER, steps
from tscloud_py.aws.lambda_ import DIRECT_UPLOAD_LIMIT
from tscloud_py.build.bun_layer import BunLayer
from tscloud_py.engine.step import StepContext
from tscloud_py.errors import ConfigError
from tscloud_py.presets.fullstack_app.worker import BunLayerStep


def layer_step(tmp_path: Path, size: int) -> BunLayerStep:
    step = next(s for s in steps(tmp_path, FULLSTACK_LAMBDA_WORKER) if s.id == "worker-layer")
    assert isinstance(step, BunLayerStep)
    zipped = tmp_path / "layer.zip"
    with zipped.open("wb") as f:  # sparse: the size is what counts
        f.truncate(size)
    step._built = BunLayer(zipped, step.version, step.arch, "sha", size, 2 * size)
    return step


def test_a_layer_over_the_request_limit_is_refused_while_planning(tmp_path: Path) -> None:
    step = layer_step(tmp_path, DIRECT_UPLOAD_LIMIT + 1)
    with pytest.raises(ConfigError) as refused:
        step.diff(StepContext().for_step(step.id), None)
    assert refused.value.key == "queue.worker_bun_version"
    assert "50.0 MiB zipped, over the 50 MiB" in str(refused.value)


def test_a_layer_at_the_limit_is_published(tmp_path: Path) -> None:
    step = layer_step(tmp_path, DIRECT_UPLOAD_LIMIT)
    [change] = step.diff(StepContext().for_step(step.id), None)
    assert "Bun" in str(change.new)
