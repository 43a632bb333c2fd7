"""CloudWatch Logs: log groups with retention, and reading events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.session import call, ignoring, paginate

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


class Logs:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("logs", region)

    def group(self, name: str) -> dict[str, Any] | None:
        for g in paginate(self.c, "describe_log_groups", "logGroups", logGroupNamePrefix=name):
            if g.get("logGroupName") == name:
                return dict(g)
        return None

    def tags(self, arn: str) -> dict[str, str]:
        with ignoring("ResourceNotFoundException"):
            return dict(call(self.c.list_tags_for_resource, "logs:ListTagsForResource",
                             resourceArn=arn.removesuffix(":*")).get("tags", {}))
        return {}

    def create(self, name: str, tags: dict[str, str]) -> None:
        with ignoring("ResourceAlreadyExistsException"):
            call(self.c.create_log_group, "logs:CreateLogGroup", logGroupName=name, tags=tags)

    def set_retention(self, name: str, days: int) -> None:
        call(self.c.put_retention_policy, "logs:PutRetentionPolicy", logGroupName=name, retentionInDays=days)

    def delete(self, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.delete_log_group, "logs:DeleteLogGroup", logGroupName=name)

    def events(self, group: str, *, start_ms: int, filter_pattern: str | None = None,
               prefix: str | None = None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
        if filter_pattern:
            kwargs["filterPattern"] = filter_pattern
        if prefix:
            kwargs["logStreamNamePrefix"] = prefix
        yield from paginate(self.c, "filter_log_events", "events", **kwargs)
