"""A changed `[cache] replicas` is applied in place, in the order AWS accepts: failover and Multi-AZ off before
the last replica goes, on only once a replica is there. moto has no IncreaseReplicaCount or
DecreaseReplicaCount (and 5.2.1 no ModifyReplicationGroup): tscloud_py.emulator.fidelity emulates them with
AWS's refusals, which these tests hold it to (tests/aws/test_fullstack_data_steps.py runs the CacheStep
against it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tscloud_py.aws.elasticache import ReplicaCall, Replication, resize_calls


@pytest.fixture
def ec() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("elasticache", region_name="us-east-1")


def refused(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def group(ec: Any, group_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    return found


def test_create_makes_num_cache_clusters_and_refuses_failover_without_a_replica(ec: Any) -> None:
    made = ec.create_replication_group(ReplicationGroupId="two", ReplicationGroupDescription="d",
                                       NumCacheClusters=2, AutomaticFailoverEnabled=True,
                                       MultiAZEnabled=True)["ReplicationGroup"]
    assert made["MemberClusters"] == ["two-001", "two-002"]  # moto makes one, whatever is asked
    code, message = refused(ec.create_replication_group, ReplicationGroupId="one", ReplicationGroupDescription="d",
                            NumCacheClusters=1, AutomaticFailoverEnabled=True)
    assert code == "InvalidParameterCombination" and "at least 2 cache clusters" in message
    code, _ = refused(ec.create_replication_group, ReplicationGroupId="one", ReplicationGroupDescription="d",
                      NumCacheClusters=2, AutomaticFailoverEnabled=False, MultiAZEnabled=True)
    assert code == "InvalidParameterCombination"


def test_replica_counts_change_only_in_the_order_aws_accepts(ec: Any) -> None:
    ec.create_replication_group(ReplicationGroupId="g", ReplicationGroupDescription="d", NumCacheClusters=2,
                                AutomaticFailoverEnabled=True, MultiAZEnabled=True)
    # the last replica cannot go while failover is on
    code, message = refused(ec.decrease_replica_count, ReplicationGroupId="g", NewReplicaCount=0,
                            ApplyImmediately=True)
    assert code == "InvalidParameterValue" and "at least 1 replica" in message
    changed = ec.modify_replication_group(ReplicationGroupId="g", AutomaticFailoverEnabled=False,
                                          MultiAZEnabled=False, ApplyImmediately=True)["ReplicationGroup"]
    assert changed["Status"] == "modifying"
    # nothing else is accepted until the change is made (until the group is described again here)
    assert refused(ec.decrease_replica_count, ReplicationGroupId="g", NewReplicaCount=0,
                   ApplyImmediately=True)[0] == "InvalidReplicationGroupState"
    assert group(ec, "g")["Status"] == "available"
    shrunk = ec.decrease_replica_count(ReplicationGroupId="g", NewReplicaCount=0,
                                       ApplyImmediately=True)["ReplicationGroup"]
    assert shrunk["MemberClusters"] == ["g-001"]
    now = group(ec, "g")
    assert (now["AutomaticFailover"], now["MultiAZ"]) == ("disabled", "disabled")
    # failover needs a replica to fail over to, Multi-AZ needs failover
    code, message = refused(ec.modify_replication_group, ReplicationGroupId="g", AutomaticFailoverEnabled=True,
                            ApplyImmediately=True)
    assert code == "InvalidParameterCombination" and "read replica" in message
    assert refused(ec.modify_replication_group, ReplicationGroupId="g", MultiAZEnabled=True,
                   ApplyImmediately=True)[0] == "InvalidParameterCombination"


@pytest.mark.parametrize("call, count", [("increase_replica_count", 6), ("increase_replica_count", 0),
                                         ("decrease_replica_count", 1), ("decrease_replica_count", -1)])
def test_a_count_out_of_range_or_not_moving_is_an_invalid_value(ec: Any, call: str, count: int) -> None:
    ec.create_replication_group(ReplicationGroupId="r", ReplicationGroupDescription="d", NumCacheClusters=1)
    if call == "decrease_replica_count":
        ec.increase_replica_count(ReplicationGroupId="r", NewReplicaCount=1, ApplyImmediately=True)
        group(ec, "r")
    assert refused(getattr(ec, call), ReplicationGroupId="r", NewReplicaCount=count,
                   ApplyImmediately=True)[0] == "InvalidParameterValue"
    assert refused(ec.increase_replica_count, ReplicationGroupId="missing", NewReplicaCount=1,
                   ApplyImmediately=True)[0] == "ReplicationGroupNotFoundFault"


@pytest.mark.parametrize("have, want, calls", [
    (Replication(0, False, False), 1, [ReplicaCall("replicas", count=1), ReplicaCall("failover", on=True)]),
    (Replication(2, True, True), 0, [ReplicaCall("failover", on=False), ReplicaCall("replicas", count=0)]),
    (Replication(1, True, True), 3, [ReplicaCall("replicas", count=3)]),
    (Replication(1, True, False), 1, [ReplicaCall("failover", on=True)]),  # Multi-AZ turned off by hand
    (Replication(1, True, True), 1, []),
])
def test_resize_calls_are_in_aws_order(have: Replication, want: int, calls: list[ReplicaCall]) -> None:
    assert resize_calls(have, Replication.wanted(want)) == calls
