"""fullstack-app config tables: every error names the key and what was expected (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tscloud_py.config.load import config_from_dict
from tscloud_py.errors import ConfigError


def load(**tables: Any) -> Any:
    raw: dict[str, Any] = {"app": "shop", "preset": "fullstack-app",
                           "api": {"image": "ghcr.io/acme/api:1.2.3"}}
    for key, value in tables.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return config_from_dict(raw, "tscloud.toml", base_dir=Path("."))


def error(**tables: Any) -> str:
    with pytest.raises(ConfigError) as exc:
        load(**tables)
    assert exc.value.exit_code == 2
    return exc.value.message


def test_defaults() -> None:
    config = load(database={}, cache={}, queue={})
    assert config.api.port == 8080 and config.api.cpu == 256 and config.api.memory == 512
    assert config.api.deployment == "rolling" and config.api.deregistration_delay == 30
    assert config.database.engine == "postgres" and config.database.deletion_protection is None
    assert config.cache.node_type == "cache.t4g.micro" and config.queue.max_receive_count == 5
    assert config.network is None  # the default VPC


@pytest.mark.parametrize(("tables", "key", "text"), [
    ({"api": {"build": {"context": "."}}}, "api", "exactly one of image or [api.build]"),
    ({"api": {"image": "nginx"}}, "api.image", "pin the image by tag or digest"),
    ({"api": {"image": "nginx@sha256:zzzz"}}, "api.image", "expected an image reference"),
    ({"api": {"image": "nginx@sha256:" + "A" * 64}}, "api.image", "a sha256 digest is 64 lowercase hex digits"),
    ({"api": {"image": "Registry/App:1"}}, "api.image", "expected an image reference"),
    ({"api": {"image": "a//b:1"}}, "api.image", "expected an image reference"),
    ({"api": {"image": "app:" + "t" * 129}}, "api.image", "expected an image reference"),
    ({"api": {"cpu": 256, "memory": 4096}}, "api.memory", "with cpu = 256, expected 512..2048"),
    ({"api": {"cpu": 300}}, "api.cpu", "expected one of"),
    ({"api": {"min_count": 3, "max_count": 2}}, "api.min_count", "at most max_count"),
    ({"api": {"desired_count": 9}}, "api.desired_count", "between min_count"),
    ({"api": {"deregistration_delay": 300}}, "api.deregistration_delay", "at most 60"),
    ({"api": {"environment": {"A": "1"}, "secrets": {"A": "prod/a"}}}, "api.secrets.A", "also set in"),
    ({"api": {"environment": {"1BAD": "x"}}}, "api.environment.1BAD", "invalid name"),
    ({"api": {"imgae": "x"}}, "api.imgae", "did you mean 'image'"),
    ({"api": {"health_check": "health"}}, "api.health_check", "starting with /"),
    ({"database": {"engine": "mysql"}}, "database.engine", "'postgres', 'aurora-postgresql'"),
    ({"database": {"min_capacity": 8.0, "max_capacity": 2.0}}, "database.min_capacity", "at most max_capacity"),
    ({"queue": {"worker": "service"}}, "queue.worker_command", "required when worker = 'service'"),
    ({"schedules": [{"name": "a", "expression": "rate(1 day)", "command": ["x"]},
                    {"name": "a", "expression": "rate(2 days)", "command": ["y"]}]}, "schedules[1].name",
     "duplicate schedule name"),
    ({"schedules": [{"name": "a", "expression": "every day", "command": ["x"]}]}, "schedules[0].expression",
     "cron(...), rate(...) or at(...)"),
    ({"frontend": {"distribution_id": "E2QWRUHAPOMQZL"}, "site": {"dir": "dist"}}, "frontend", "not both"),
    ({"frontend": {"distribution_id": "nope"}}, "frontend.distribution_id", "distribution id"),
    ({"network": {"vpc": "new", "cidr": "10.0.0.0/8"}}, "network.cidr", "a /16"),
    ({"api": {"alb_ingress": "cloudfront"}}, "api.alb_ingress", "needs [frontend] or [site]"),
])
def test_errors_name_the_key(tables: dict[str, Any], key: str, text: str) -> None:
    message = error(**tables)
    assert f"tscloud.toml: {key}:" in message
    assert text in message


def test_prod_turns_deletion_protection_on_by_default() -> None:
    from tests.preset_support import preset_step

    for stage, expected in (("dev", False), ("prod", True), ("production", True)):
        config = load(stage=stage, database={})
        assert preset_step(config, "database").deletion_protection is expected
    config = load(stage="prod", database={"deletion_protection": False})
    assert not preset_step(config, "database").deletion_protection


@pytest.mark.parametrize("image", [
    "public.ecr.aws/docker/library/nginx:1.27-alpine", "nginx:1.27", "localhost:5000/team/app:v1",
    "[::1]:5000/app:latest", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + "0" * 64,
    "app:1.2@sha256:" + "ab" * 32, "a__b/c-d.e:tag_1"])
def test_image_references_the_distribution_spec_allows(image: str) -> None:
    assert load(api={"image": image}).api.image == image
