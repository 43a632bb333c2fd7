"""Monthly cost estimates from a dated, bundled price table (``tscloud_py/data/prices.json``).

``cost_inputs(config)`` extracts what a config would run (pure data, JSON-able, recorded at every
deploy); ``estimate(inputs, prices, assumptions)`` turns that into line items. Both are pure apart
from reading the site directory's size.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tscloud_py.cost.inputs import cost_inputs

if TYPE_CHECKING:
    from tscloud_py.cost.estimating import Assumptions, Estimate, Item, estimate
    from tscloud_py.cost.prices import PriceTable, load_prices

__all__ = ["Assumptions", "Estimate", "Item", "PriceTable", "cost_inputs", "estimate", "load_prices"]

# The estimate and the price table load when first asked for: every deploy records its cost inputs, only
# `cost` and `plan` price them. (No module here is named as one of these names: an imported submodule
# would otherwise shadow the name.)
_HOMES = {"Assumptions": "estimating", "Estimate": "estimating", "Item": "estimating", "estimate": "estimating",
          "PriceTable": "prices", "load_prices": "prices"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
