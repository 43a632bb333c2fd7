"""The AWS regions botocore knows, from its own partition data (no request is made)."""

from __future__ import annotations

from functools import lru_cache

from tscloud_py.errors import closest


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region of every partition (aws, aws-cn, aws-us-gov, the isolated ones) in botocore's data."""
    from botocore.loaders import Loader

    loader = Loader()
    # partitions.json is a few KB; endpoints.json, which lists the same regions, is a megabyte to parse
    # on every command: read only where partitions.json is missing (an older or trimmed botocore).
    for name in ("partitions", "endpoints"):
        try:
            data = loader.load_data(name)
        except Exception:
            continue
        regions = {r for partition in data.get("partitions", []) for r in partition.get("regions", {})
                   if not r.startswith("aws-")}
        if regions:
            return frozenset(regions)
    return frozenset()


def region_problem(region: str) -> str | None:
    """None for a known region, else what to say about it (with a did-you-mean)."""
    known = known_regions()
    if not known or region in known:
        return None
    close = closest(region, sorted(known))
    hint = f"; did you mean {close!r}?" if close else ""
    return f"unknown AWS region {region!r}{hint} (botocore knows {len(known)} regions, e.g. us-east-1)"
