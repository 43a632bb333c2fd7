"""ElastiCache: subnet groups and Redis replication groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.session import call, create_or_adopt, ignoring
from tscloud_py.aws.waiters import Poll, ProgressCallback, WaitPolicy, wait_for

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.waiters import Clock


@dataclass(frozen=True)
class RedisGroup:
    """A Redis replication group as tscloud makes it: TLS and at-rest encryption, AUTH, port 6379."""

    group_id: str
    description: str
    node_type: str
    replicas: int  # read replicas; one or more turns on automatic failover across AZs
    subnet_group: str
    security_group: str


class ElastiCache:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("elasticache", region)
        self.once = factory.client("elasticache", region, once=True)  # no tokens: see create_or_adopt

    def subnet_group(self, name: str) -> dict[str, Any] | None:
        with ignoring("CacheSubnetGroupNotFoundFault"):
            return dict(call(self.c.describe_cache_subnet_groups, "elasticache:DescribeCacheSubnetGroups",
                             CacheSubnetGroupName=name)["CacheSubnetGroups"][0])
        return None

    def create_subnet_group(self, name: str, subnets: list[str], tags: dict[str, str]) -> None:
        create_or_adopt(
            lambda: call(self.once.create_cache_subnet_group, "elasticache:CreateCacheSubnetGroup",
                         CacheSubnetGroupName=name, CacheSubnetGroupDescription=f"tscloud {name}", SubnetIds=subnets,
                         Tags=tag_list(tags)),
            lambda: self.subnet_group(name), "elasticache:CreateCacheSubnetGroup",
            exists=("CacheSubnetGroupAlreadyExists", "CacheSubnetGroupAlreadyExistsFault"))

    def delete_subnet_group(self, name: str) -> None:
        with ignoring("CacheSubnetGroupNotFoundFault"):
            call(self.c.delete_cache_subnet_group, "elasticache:DeleteCacheSubnetGroup", CacheSubnetGroupName=name)

    def replication_group(self, group_id: str) -> dict[str, Any] | None:
        with ignoring("ReplicationGroupNotFoundFault"):
            found = call(self.c.describe_replication_groups, "elasticache:DescribeReplicationGroups",
                         ReplicationGroupId=group_id)["ReplicationGroups"]
            return dict(found[0]) if found else None
        return None

    def create_replication_group(self, group: RedisGroup, auth_token: str, tags: dict[str, str]) -> dict[str, Any]:
        args: dict[str, Any] = {
            "ReplicationGroupId": group.group_id, "ReplicationGroupDescription": group.description,
            "Engine": "redis", "CacheNodeType": group.node_type, "NumCacheClusters": 1 + group.replicas,
            "AutomaticFailoverEnabled": group.replicas > 0, "MultiAZEnabled": group.replicas > 0,
            "CacheSubnetGroupName": group.subnet_group, "SecurityGroupIds": [group.security_group],
            "TransitEncryptionEnabled": True, "AtRestEncryptionEnabled": True, "Port": 6379,
            "AuthToken": auth_token, "SnapshotRetentionLimit": 1,
        }
        return create_or_adopt(
            lambda: dict(call(self.once.create_replication_group, "elasticache:CreateReplicationGroup",
                              Tags=tag_list(tags), **args)["ReplicationGroup"]),
            lambda: self.replication_group(group.group_id), "elasticache:CreateReplicationGroup",
            exists=("ReplicationGroupAlreadyExists", "ReplicationGroupAlreadyExistsFault"))

    def change_node_type(self, group_id: str, node_type: str) -> None:
        """Scale every node to ``node_type``, at once (not in the next maintenance window)."""
        call(self.c.modify_replication_group, "elasticache:ModifyReplicationGroup", ReplicationGroupId=group_id,
             ApplyImmediately=True, CacheNodeType=node_type)

    def delete_replication_group(self, group_id: str, final_snapshot: str | None) -> None:
        kwargs: dict[str, Any] = {"ReplicationGroupId": group_id}
        if final_snapshot:
            kwargs["FinalSnapshotIdentifier"] = final_snapshot
        with ignoring("ReplicationGroupNotFoundFault"):
            call(self.c.delete_replication_group, "elasticache:DeleteReplicationGroup", **kwargs)

    def wait(self, group_id: str, *, gone: bool = False, progress: ProgressCallback | None = None,
             clock: Clock | None = None) -> dict[str, Any] | None:
        def check() -> Poll[dict[str, Any]]:
            rg = self.replication_group(group_id)
            if rg is None:
                return Poll.finished({}, "deleted") if gone else Poll.pending("missing")
            state = str(rg.get("Status", "unknown"))
            if not gone and state == "available":
                return Poll.finished(rg, state)
            return Poll.pending(state)

        result = wait_for(check, what=f"redis {group_id} {'deleted' if gone else 'available'}",
                          policy=WaitPolicy(timeout=3600, first_interval=5), clock=clock, progress=progress)
        return result or None

    def tags(self, arn: str) -> dict[str, str]:
        with ignoring("InvalidARN", "ReplicationGroupNotFoundFault"):
            items = call(self.c.list_tags_for_resource, "elasticache:ListTagsForResource",
                         ResourceName=arn)["TagList"]
            return {str(t["Key"]): str(t["Value"]) for t in items}
        return {}
