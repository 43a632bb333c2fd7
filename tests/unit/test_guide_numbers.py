"""docs/guide.md quotes `tscloud cost` figures; they must stay what the estimator computes."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from tscloud_py.config.load import config_from_dict
from tscloud_py.cost import Assumptions, cost_inputs, estimate, load_prices

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent.parent
GUIDE = (ROOT / "docs" / "guide.md").read_text()
IDLE = Assumptions(requests_per_month=0, gb_out_per_month=0, worker_messages_per_month=0)


def total(example: str, assumptions: Assumptions, **tables: dict[str, object]) -> float:
    path = ROOT / "examples" / example / "tscloud.toml"
    raw = {**tomllib.loads(path.read_text()), **tables}
    config = config_from_dict(raw, str(path), base_dir=path.parent)
    return round(estimate(cost_inputs(config), load_prices("us-east-1"), assumptions).total, 2)


@pytest.mark.parametrize("figure,example,assumptions,tables", [
    ("$62.05", "fullstack-app", IDLE, {}),
    ("$64.02", "fullstack-app", Assumptions(), {}),
    ("$7.40", "ssr-app", Assumptions(), {}),
    ("$0.00", "ssr-app", IDLE, {}),
    ("$95.80", "fullstack-app", dataclasses.replace(IDLE, nat_gb_per_month=20),
     {"network": {"vpc": "new", "nat_gateway": True}}),
])
def test_quoted_figures(figure: str, example: str, assumptions: Assumptions,
                        tables: dict[str, dict[str, object]]) -> None:
    assert figure in GUIDE
    assert f"${total(example, assumptions, **tables):.2f}" == figure


def test_guide_is_dated_like_the_price_table() -> None:
    assert "2026-11-23" in GUIDE and load_prices("us-east-1").as_of == "2026-11-23"
