"""Monthly cost estimates from a dated, bundled price table (``tscloud_py/data/prices.json``).

``cost_inputs(config)`` extracts what a config would run (pure data, JSON-able, recorded at every
deploy); ``estimate(inputs, prices, assumptions)`` turns that into line items. Both are pure apart
from reading the site directory's size.
"""

from tscloud_py.cost.estimate import Assumptions, Estimate, Item, estimate
from tscloud_py.cost.inputs import cost_inputs
from tscloud_py.cost.prices import PriceTable, load_prices

__all__ = ["Assumptions", "Estimate", "Item", "PriceTable", "cost_inputs", "estimate", "load_prices"]
