"""RDS's DescribeDBEngineVersions."""

from __future__ import annotations

from typing import Any

# The versions RDS offered in us-east-1 (DescribeDBEngineVersions, 2025): enough to tell a version AWS
# runs from one it would refuse, which is all a deploy asks of it.
VERSIONS = {
    "postgres": [*(f"13.{n}" for n in range(15, 21)), *(f"14.{n}" for n in range(12, 18)),
                 *(f"15.{n}" for n in range(7, 13)), *(f"16.{n}" for n in range(3, 9)),
                 *(f"17.{n}" for n in range(1, 5))],
    "aurora-postgresql": [*(f"13.{n}" for n in range(12, 19)), *(f"14.{n}" for n in range(9, 16)),
                          *(f"15.{n}" for n in range(4, 11)), *(f"16.{n}" for n in range(1, 7)),
                          "17.4"],
}


def apply() -> None:
    _describe_db_engine_versions()


def _describe_db_engine_versions() -> None:
    """DescribeDBEngineVersions lists the engine versions RDS can create (filtered by Engine and
    EngineVersion), so a deploy can refuse a version AWS would refuse only after the network and the
    subnet group were made; DefaultOnly answers the version a create without one gets, whose parameter group
    family a parameter group must have. moto has no handler for it and answers every such request with a 500."""
    from moto.core.responses import ActionResult
    from moto.rds.responses import RDSResponse

    def describe_db_engine_versions(self: Any) -> ActionResult:
        engine = self._get_param("Engine")
        version = self._get_param("EngineVersion")
        default_only = str(self._get_param("DefaultOnly")).lower() == "true"  # the newest, as RDS's default is
        found = [{"Engine": name, "EngineVersion": v, "DBParameterGroupFamily": f"{name}{v.split('.')[0]}",
                  "Status": "available"}
                 for name, versions in VERSIONS.items() if engine in (None, name)
                 for v in (versions[-1:] if default_only else versions) if version in (None, v)]
        return ActionResult({"DBEngineVersions": found})

    RDSResponse.describe_db_engine_versions = describe_db_engine_versions  # type: ignore[attr-defined]
