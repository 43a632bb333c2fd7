"""The estimator on its own: each kind of item, by hand."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tscloud_py.config.load import config_from_dict
from tscloud_py.cost import Assumptions, cost_inputs, estimate, load_prices
from tscloud_py.cost.hooks import plan_cost, plan_cost_line
from tscloud_py.cost.prices import PriceLookupError, raw_table


def inputs_of(raw: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return cost_inputs(config_from_dict(raw, "tscloud.toml", base_dir=tmp_path))


FULLSTACK: dict[str, Any] = {"app": "shop", "preset": "fullstack-app", "api": {"image": "nginx:1"}}


def by_id(inputs: dict[str, Any], region: str = "us-east-1", **kw: Any) -> dict[str, float]:
    return {i.id: i.usd for i in estimate(inputs, load_prices(region), Assumptions(**kw)).items}


def test_every_price_has_a_source_and_the_table_a_date() -> None:
    table = raw_table()
    assert table["as_of"] == "2026-11-23" and table["hours_per_month"] == 730
    assert set(table["regions"]) >= {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"}

    def walk(node: Any) -> int:
        if isinstance(node, dict) and "usd" in node:
            assert node["usd"] > 0 and "pricing page" in node["source"] and node["unit"]
            return 1
        return sum(walk(v) for v in node.values()) if isinstance(node, dict) else 0

    assert walk(table["regions"]) + walk(table["global"]) > 100


def test_arm64_worker_service_nat_and_aurora(tmp_path: Path) -> None:
    raw = {**FULLSTACK, "api": {"image": "nginx:1", "cpu": 1024, "memory": 2048, "architecture": "arm64",
                                "desired_count": 2, "max_count": 4},
           "queue": {"worker": "service", "worker_command": ["node", "w.js"], "worker_min_count": 1},
           "network": {"vpc": "new", "nat_gateway": True},
           "database": {"engine": "aurora-postgresql", "min_capacity": 0.5, "max_capacity": 4, "storage": 30},
           "cache": {"node_type": "cache.t4g.small", "replicas": 1}}
    got = by_id(inputs_of(raw, tmp_path))
    assert got["fargate:api"] == pytest.approx(2 * 730 * (1 * 0.03238 + 2 * 0.00356))   # 57.6692
    assert got["fargate:worker"] == pytest.approx(1 * 730 * (1 * 0.03238 + 2 * 0.00356))
    assert "ipv4:api" not in got                                  # private subnets behind the NAT
    assert got["nat"] == pytest.approx(730 * 0.045)               # 32.85, the figure network.py quotes
    assert got["nat-data"] == pytest.approx(5 * 0.045)
    assert got["ipv4:nat"] == pytest.approx(730 * 0.005)
    assert got["database"] == pytest.approx(0.5 * 730 * 0.12)     # 43.80
    assert got["database-storage"] == pytest.approx(30 * 0.10)
    assert got["cache"] == pytest.approx(2 * 730 * 0.032)          # 46.72


def test_api_gateway_origin_adds_rest_calls(tmp_path: Path) -> None:
    inputs = {"preset": "ssr-app", "functions": [], "distribution": False, "api_gateway": True}
    assert by_id(inputs)["api-gateway"] == pytest.approx(3.50)


def test_unknown_instance_class_names_the_known_ones(tmp_path: Path) -> None:
    raw = {**FULLSTACK, "database": {"instance_class": "db.x2iedn.32xlarge"}}
    with pytest.raises(PriceLookupError) as err:
        estimate(inputs_of(raw, tmp_path), load_prices("us-east-1"))
    assert "db.x2iedn.32xlarge" in err.value.message and "db.t4g.micro" in err.value.message


def _ws(raw: dict[str, Any], tmp_path: Path, last_run: dict[str, Any] | None) -> Any:
    config = config_from_dict(raw, "tscloud.toml", base_dir=tmp_path)
    return SimpleNamespace(config=config, journal=SimpleNamespace(data={"last_run": last_run} if last_run else {}))


def test_plan_cost_delta_against_the_recorded_deploy(tmp_path: Path) -> None:
    before = {**FULLSTACK, "database": {}}
    after = {**FULLSTACK, "database": {"instance_class": "db.t4g.small"}}
    recorded = {"kind": "deploy", "ok": True, "cost_inputs": json.loads(json.dumps(inputs_of(before, tmp_path)))}
    doc = plan_cost(_ws(after, tmp_path, recorded))["cost"]
    # db.t4g.micro -> db.t4g.small: 730 x (0.032 - 0.016) = +11.68
    assert doc["delta_usd"] == 11.68 and doc["changed_items"] == {"database": 11.68}
    assert doc["monthly_usd"] == round(doc["previous_monthly_usd"] + 11.68, 2)
    line = plan_cost_line(doc)
    assert line is not None and "+$11.68 vs the last deploy" in line and "database +$11.68" in line


def test_plan_cost_without_a_deploy_and_after_a_destroy(tmp_path: Path) -> None:
    fresh = plan_cost(_ws(FULLSTACK, tmp_path, None))["cost"]
    assert fresh["previous_monthly_usd"] is None and fresh["delta_usd"] == fresh["monthly_usd"]
    destroyed = plan_cost(_ws(FULLSTACK, tmp_path, {"kind": "destroy", "ok": True, "cost_inputs": None}))["cost"]
    assert destroyed["previous_monthly_usd"] == 0.0 and destroyed["delta_usd"] == destroyed["monthly_usd"]
