"""ssr-app preset validation (no AWS): the build, streaming, origins and workers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tscloud_py.aws.session import ClientFactory
from tscloud_py.config.load import config_from_dict
from tscloud_py.errors import ConfigError
from tscloud_py.presets import load_preset

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "ssr-app"


def preset(tmp_path: Path, **ssr: Any) -> Any:
    if not (tmp_path / ".output").exists():
        shutil.copytree(EXAMPLE / ".output", tmp_path / ".output")
        shutil.copytree(EXAMPLE / "worker", tmp_path / "worker")
    config = config_from_dict({"app": "shop", "preset": "ssr-app", "ssr": ssr}, "tscloud.toml", base_dir=tmp_path)
    return load_preset(config, ClientFactory(region="us-east-1"))


def test_step_graphs(tmp_path: Path) -> None:
    ids = [s.id for s in preset(tmp_path).steps()]
    assert ids[:3] == ["bucket", "oac", "log-group"]
    assert {"function-url", "server-oac", "edge-function", "distribution", "server-permission", "upload"} <= set(ids)
    api = [s.id for s in preset(tmp_path, origin="api-gateway").steps()]
    assert "api" in api and "function-url" not in api and "server-oac" not in api
    workers = [s.id for s in preset(tmp_path, workers=[{"name": "jobs", "dir": "worker"}]).steps()]
    assert workers[-5:] == ["queue-jobs", "worker-logs-jobs", "worker-role-jobs", "worker-jobs", "worker-events-jobs"]


def test_valid_example_and_streaming(tmp_path: Path) -> None:
    p = preset(tmp_path, streaming=True)
    p.validate()
    assert p.streaming is True and p.runtime.startswith("nodejs")
    assert [e.path_pattern for e in p.entries] == ["/assets/*", "/favicon.ico", "/images/*", "/robots.txt"]
    data, sha = p.server_code
    assert p.server_code == (data, sha) and len(sha) == 44


@pytest.mark.parametrize(("ssr", "key"), [
    ({"streaming": False}, "ssr.streaming"),
    ({"dir": "missing"}, "ssr.dir"),
    ({"workers": [{"name": "server", "dir": "worker"}]}, "ssr.workers[0].name"),
    ({"workers": [{"name": "jobs", "dir": "nope"}]}, "ssr.workers[0].dir"),
    ({"workers": [{"name": "jobs", "dir": "worker", "batch_size": 100}]}, "ssr.workers[0].batching_window"),
])
def test_config_errors_name_the_key(tmp_path: Path, ssr: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        preset(tmp_path, **ssr).validate()
    assert err.value.key == key and err.value.exit_code == 2


def test_public_entry_limits(tmp_path: Path) -> None:
    p = preset(tmp_path)
    (tmp_path / ".output" / "public" / "bad name.txt").write_text("x")
    with pytest.raises(ConfigError, match="path pattern"):
        p.validate()
    (tmp_path / ".output" / "public" / "bad name.txt").unlink()
    for i in range(25):
        (tmp_path / ".output" / "public" / f"f{i}.txt").write_text("x")
    with pytest.raises(ConfigError, match="behaviors"):
        preset(tmp_path).validate()
