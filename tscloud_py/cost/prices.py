"""The bundled price table: dated, one source note per price."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tscloud_py.errors import TscloudError


class PriceLookupError(TscloudError):
    """The bundled price table has no price for a region or size the config uses."""

    exit_code = 2
    default_hint = ("estimate at another bundled region's prices with `tscloud cost --price-region us-east-1`, "
                    "or add the price to tscloud_py/data/prices.json with its source")


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    region: str
    hours_per_month: float
    regional: dict[str, Any]
    global_: dict[str, Any]

    def usd(self, key: str, size: str | None = None) -> float:
        """The price of ``key`` (a size table like rds_postgres_instance_hour needs ``size``)."""
        entry = self.global_.get(key) if key in self.global_ else self.regional.get(key)
        if entry is None:
            raise PriceLookupError(f"no price '{key}' in the bundled table for {self.region}")
        if size is not None:
            sized = entry.get(size)
            if sized is None:
                known = ", ".join(sorted(entry))
                raise PriceLookupError(f"no bundled price for {size} in {self.region} (as of {self.as_of}); "
                                       f"known sizes: {known}")
            entry = sized
        return float(entry["usd"])

    def source(self, key: str, size: str | None = None) -> str:
        entry: dict[str, Any] = self.global_.get(key) or self.regional.get(key) or {}
        if size is not None:
            entry = entry.get(size, {})
        return str(entry.get("source", ""))


def raw_table() -> dict[str, Any]:
    text = resources.files("tscloud_py").joinpath("data/prices.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_prices(region: str) -> PriceTable:
    data = raw_table()
    regions = data["regions"]
    if region not in regions:
        raise PriceLookupError(f"no bundled prices for region {region} (as of {data['as_of']}); "
                               f"bundled: {', '.join(sorted(regions))}")
    return PriceTable(as_of=data["as_of"], region=region, hours_per_month=float(data["hours_per_month"]),
                      regional=regions[region], global_=data["global"])
