"""ElastiCache: subnet groups and Redis replication groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.retry import create_or_adopt
from tscloud_py.aws.session import call, ignoring
from tscloud_py.aws.waiters import Poll, ProgressCallback, WaitPolicy, wait_for
from tscloud_py.errors import AwsError

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.waiters import Clock


@dataclass(frozen=True)
class Replication:
    """How a group keeps copies of its data: read replicas, automatic failover to one, across AZs."""

    replicas: int
    failover: bool
    multi_az: bool

    @classmethod
    def wanted(cls, replicas: int) -> Replication:
        """tscloud's choice: with a replica, fail over to it in another AZ; without one there is nothing to."""
        return cls(replicas, replicas > 0, replicas > 0)

    @classmethod
    def of(cls, group: dict[str, Any]) -> Replication:
        """What DescribeReplicationGroups reports (cluster mode disabled: one primary, the rest replicas)."""
        return cls(max(len(group.get("MemberClusters", [])) - 1, 0),
                   group.get("AutomaticFailover") in ("enabled", "enabling"), group.get("MultiAZ") == "enabled")


@dataclass(frozen=True)
class ReplicaCall:
    """One call of a resize: ``failover`` sets automatic failover and Multi-AZ to ``on``; ``replicas`` sets
    the read replica count to ``count`` (IncreaseReplicaCount or DecreaseReplicaCount)."""

    kind: Literal["failover", "replicas"]
    on: bool = False
    count: int = 0


def resize_calls(have: Replication, want: Replication) -> list[ReplicaCall]:
    """The calls that take a group from ``have`` to ``want``, in the order AWS accepts them: failover and
    Multi-AZ go off before the last replica goes (DecreaseReplicaCount keeps one while they are on), and come
    on only once a replica is there (ModifyReplicationGroup refuses failover without one)."""
    calls: list[ReplicaCall] = []
    switch = (have.failover, have.multi_az) != (want.failover, want.multi_az)
    if switch and not want.failover:
        calls.append(ReplicaCall("failover", on=False))
    if have.replicas != want.replicas:
        calls.append(ReplicaCall("replicas", count=want.replicas))
    if switch and want.failover:
        calls.append(ReplicaCall("failover", on=True))
    return calls


@dataclass(frozen=True)
class RedisGroup:
    """A Redis replication group as tscloud makes it: TLS and at-rest encryption, AUTH, port 6379."""

    group_id: str
    description: str
    node_type: str
    replicas: int  # read replicas; see Replication.wanted
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
        replication = Replication.wanted(group.replicas)
        args: dict[str, Any] = {
            "ReplicationGroupId": group.group_id, "ReplicationGroupDescription": group.description,
            "Engine": "redis", "CacheNodeType": group.node_type, "NumCacheClusters": 1 + group.replicas,
            "AutomaticFailoverEnabled": replication.failover, "MultiAZEnabled": replication.multi_az,
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

    def resize(self, group_id: str, calls: list[ReplicaCall], *, progress: ProgressCallback | None = None,
               clock: Clock | None = None) -> None:
        """Make ``calls`` (from `resize_calls`) one after another, each once the group is ``available``
        again: AWS refuses a change while the last one is still being made (InvalidReplicationGroupState)."""
        for step in calls:
            group = self.wait(group_id, progress=progress, clock=clock) or {}
            try:
                self._make(group_id, step, grow=step.count > Replication.of(group).replicas)
            except AwsError as exc:
                # The SDK resends a call whose answer was lost; AWS refuses the resend while the first is
                # being made. Once the group is available again, it shows whether that was ours.
                if exc.code != "InvalidReplicationGroupState":
                    raise
                now = Replication.of(self.wait(group_id, progress=progress, clock=clock) or {})
                made = (now.failover, now.multi_az) == (step.on, step.on) if step.kind == "failover" \
                    else now.replicas == step.count
                if not made:
                    raise

    def _make(self, group_id: str, step: ReplicaCall, *, grow: bool) -> None:
        if step.kind == "failover":
            call(self.c.modify_replication_group, "elasticache:ModifyReplicationGroup", ReplicationGroupId=group_id,
                 ApplyImmediately=True, AutomaticFailoverEnabled=step.on, MultiAZEnabled=step.on)
            return
        operation = "IncreaseReplicaCount" if grow else "DecreaseReplicaCount"
        call(self.c.increase_replica_count if grow else self.c.decrease_replica_count, f"elasticache:{operation}",
             ReplicationGroupId=group_id, NewReplicaCount=step.count, ApplyImmediately=True)

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
