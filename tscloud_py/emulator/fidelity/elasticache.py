"""ElastiCache replication groups as AWS creates, resizes and deletes them."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _elasticache_delete_finishes()
    _elasticache_replica_counts()


def _elasticache_delete_finishes() -> None:
    """In AWS a deleted replication group goes from ``deleting`` to gone (ReplicationGroupNotFoundFault).

    moto leaves it ``deleting`` forever, so a destroy that waits for the deletion never ends.
    """
    from moto.elasticache.models import ElastiCacheBackend

    original = ElastiCacheBackend.delete_replication_group

    def delete_replication_group(self: Any, replication_group_id: str, *args: Any, **kwargs: Any) -> Any:
        group = original(self, replication_group_id, *args, **kwargs)
        self.replication_groups.pop(replication_group_id, None)
        return group

    ElastiCacheBackend.delete_replication_group = delete_replication_group  # type: ignore[method-assign]

    # DeleteCacheSubnetGroup is not implemented by moto at all (HTTP 500).
    from moto.core.responses import EmptyResult
    from moto.elasticache.exceptions import CacheSubnetGroupNotFound
    from moto.elasticache.responses import ElastiCacheResponse

    if not hasattr(ElastiCacheResponse, "delete_cache_subnet_group"):
        def delete_cache_subnet_group(self: Any) -> Any:
            name = self._get_param("CacheSubnetGroupName")
            backend = self.elasticache_backend
            if name not in backend.cache_subnet_groups:
                raise CacheSubnetGroupNotFound(name)
            del backend.cache_subnet_groups[name]
            return EmptyResult()

        ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group  # type: ignore[attr-defined]


# cluster mode disabled: a primary and up to five read replicas
MAX_REPLICAS = 5


def _elasticache_replica_counts() -> None:
    """ElastiCache (cluster mode disabled) as AWS sizes and resizes a replication group.

    - CreateReplicationGroup makes NumCacheClusters clusters (moto makes one, whatever is asked), and refuses
      automatic failover with fewer than two (InvalidParameterCombination) and Multi-AZ without failover.
    - IncreaseReplicaCount / DecreaseReplicaCount (moto has neither) set the read replicas to NewReplicaCount,
      with ApplyImmediately only. A count that does not grow (increase), shrink (decrease) or lies outside
      0..5 is InvalidParameterValue, as is going below one replica while automatic failover or Multi-AZ is on.
    - ModifyReplicationGroup (moto 5.2.1 has none; 5.2.5 accepts any combination) refuses failover on without
      a read replica and Multi-AZ on without failover (InvalidParameterCombination).
    - All three answer InvalidReplicationGroupState unless the group is ``available``; after a change it is
      ``modifying`` until it is next described (the change has finished by the time anyone looks: AWS takes
      minutes, and a client has to wait for ``available`` between two changes either way).
    """
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.elasticache.exceptions import (
        InvalidParameterCombinationException as InvalidCombination,
    )
    from moto.elasticache.exceptions import InvalidParameterValueException as InvalidValue
    from moto.elasticache.exceptions import ReplicationGroupNotFound
    from moto.elasticache.models import ElastiCacheBackend
    from moto.elasticache.responses import ElastiCacheResponse

    class InvalidState(ServiceException):
        code = "InvalidReplicationGroupState"

    create = ElastiCacheBackend.create_replication_group
    describe = ElastiCacheBackend.describe_replication_groups

    def create_replication_group(self: Any, *args: Any, **kwargs: Any) -> Any:
        clusters = kwargs.get("num_cache_clusters")
        failover, multi_az = kwargs.get("automatic_failover_enabled"), kwargs.get("multi_az_enabled")
        if (kwargs.get("cluster_mode") or "disabled") != "enabled":
            if clusters and not kwargs.get("replicas_per_node_group"):
                kwargs["replicas_per_node_group"] = clusters - 1
            if failover and 1 + (kwargs.get("replicas_per_node_group") or 0) < 2:
                raise InvalidCombination("When using automatic failover, there must be at least 2 cache "
                                         "clusters in the replication group.")
        if multi_az and not failover:
            raise InvalidCombination("Multi-AZ requires automatic failover to be enabled.")
        return create(self, *args, **kwargs)

    def describe_replication_groups(self: Any, *args: Any, **kwargs: Any) -> Any:
        groups = describe(self, *args, **kwargs)
        for group in groups:
            if group.status == "modifying":
                group.status = "available"
        return groups

    def changeable(backend: Any, group_id: str) -> Any:
        group = backend.replication_groups.get(group_id)
        if group is None:
            raise ReplicationGroupNotFound(group_id)
        if group.status != "available":
            raise InvalidState(f"Replication group {group_id} is not in available state (it is {group.status}).")
        return group

    def resize(self: Any, grow: bool) -> Any:
        group_id = self._get_param("ReplicationGroupId")
        if self._get_bool_param("ApplyImmediately") is not True:
            raise InvalidValue("ApplyImmediately=False is not currently supported.")
        group = changeable(self.elasticache_backend, group_id)
        if group.cluster_mode == "enabled" or self._get_param("ReplicaConfiguration") \
                or self._get_param("ReplicasToRemove"):
            raise InvalidCombination("this emulator resizes a cluster-mode-disabled group by NewReplicaCount only")
        count = self._get_int_param("NewReplicaCount")
        have = len(group.member_clusters) - 1
        if count is None:
            raise InvalidValue("NewReplicaCount is required.")
        if count < 0 or count > MAX_REPLICAS:
            raise InvalidValue(f"NewReplicaCount must be between 0 and {MAX_REPLICAS}.")
        if (count <= have) if grow else (count >= have):
            raise InvalidValue(f"NewReplicaCount {count} must be {'more' if grow else 'less'} than the group's "
                               f"{have} replicas.")
        if count < 1 and (group.automatic_failover == "enabled" or group.multi_az == "enabled"):
            raise InvalidValue("Must have at least 1 replica when cluster mode is disabled with auto failover "
                               "enabled.")
        node_group = group.node_groups[0]
        node_group["node_group_members"] = []
        group.member_clusters.clear()
        group._set_node_members_clusters_disabled(
            member_clusters=group.member_clusters, replication_group_id=group_id,
            replication_group_domain=node_group["primary_endpoint_address"].removeprefix("master."),
            node_group=node_group, preferred_cache_cluster_azs=[], num_cache_clusters=1 + count,
            replicas_per_node_group=count)
        if group.snapshotting_cluster_id not in group.member_clusters:
            group.snapshotting_cluster_id = group.member_clusters[-1]
        group.status = "modifying"
        return ActionResult({"ReplicationGroup": group})

    def modify_replication_group(self: Any) -> Any:
        group = changeable(self.elasticache_backend, self._get_param("ReplicationGroupId"))
        failover = self._get_bool_param("AutomaticFailoverEnabled")
        multi_az = self._get_bool_param("MultiAZEnabled")
        failover_after = group.automatic_failover == "enabled" if failover is None else failover
        multi_az_after = group.multi_az == "enabled" if multi_az is None else multi_az
        if failover and len(group.member_clusters) < 2:
            raise InvalidCombination("Replication group must have at least one read replica to enable "
                                     "autofailover.")
        if multi_az_after and not failover_after:
            raise InvalidCombination("Multi-AZ requires automatic failover to be enabled.")
        group.automatic_failover = "enabled" if failover_after else "disabled"
        group.multi_az = "enabled" if multi_az_after else "disabled"
        for param, attribute in (("ReplicationGroupDescription", "description"), ("Engine", "engine"),
                                 ("CacheNodeType", "cache_node_type")):
            if self._get_param(param) is not None:
                setattr(group, attribute, self._get_param(param))
        if self._get_int_param("SnapshotRetentionLimit") is not None:
            group.snapshot_retention_limit = self._get_int_param("SnapshotRetentionLimit")
        group.status = "modifying"
        return ActionResult({"ReplicationGroup": group})

    ElastiCacheBackend.create_replication_group = create_replication_group  # type: ignore[method-assign]
    ElastiCacheBackend.describe_replication_groups = describe_replication_groups  # type: ignore[method-assign]
    ElastiCacheResponse.increase_replica_count = lambda self: resize(self, True)  # type: ignore[attr-defined]
    ElastiCacheResponse.decrease_replica_count = lambda self: resize(self, False)  # type: ignore[attr-defined]
    ElastiCacheResponse.modify_replication_group = modify_replication_group  # type: ignore[attr-defined]
