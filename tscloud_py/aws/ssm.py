"""SSM Parameter Store: whether a parameter exists (its value is never read here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws.session import call

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


class Ssm:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("ssm", region)

    def parameter(self, name: str) -> dict[str, Any] | None:
        """The parameter's metadata (name, type, version), or None when there is none by that name."""
        found = call(self.c.describe_parameters, "ssm:DescribeParameters",
                     ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
        return dict(found[0]) if found else None
