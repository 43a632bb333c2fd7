"""RDS: subnet groups, Postgres instances, Aurora clusters, snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.session import call, create_or_adopt, ignoring
from tscloud_py.aws.waiters import Poll, ProgressCallback, WaitPolicy, wait_for

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.waiters import Clock

DB_WAIT = WaitPolicy(timeout=3600, first_interval=5, max_interval=30)


class Rds:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("rds", region)
        self.once = factory.client("rds", region, once=True)  # creates have no token: see create_or_adopt

    def subnet_group(self, name: str) -> dict[str, Any] | None:
        with ignoring("DBSubnetGroupNotFoundFault"):
            return dict(call(self.c.describe_db_subnet_groups, "rds:DescribeDBSubnetGroups",
                             DBSubnetGroupName=name)["DBSubnetGroups"][0])
        return None

    def create_subnet_group(self, name: str, subnets: list[str], tags: dict[str, str]) -> None:
        create_or_adopt(
            lambda: call(self.once.create_db_subnet_group, "rds:CreateDBSubnetGroup", DBSubnetGroupName=name,
                         DBSubnetGroupDescription=f"tscloud {name}", SubnetIds=subnets, Tags=tag_list(tags)),
            lambda: self.subnet_group(name), "rds:CreateDBSubnetGroup", exists=("DBSubnetGroupAlreadyExists",
                                                                                "DBSubnetGroupAlreadyExistsFault"))

    def modify_subnet_group(self, name: str, subnets: list[str]) -> None:
        call(self.c.modify_db_subnet_group, "rds:ModifyDBSubnetGroup", DBSubnetGroupName=name, SubnetIds=subnets)

    def delete_subnet_group(self, name: str) -> None:
        with ignoring("DBSubnetGroupNotFoundFault"):
            call(self.c.delete_db_subnet_group, "rds:DeleteDBSubnetGroup", DBSubnetGroupName=name)

    # -- instances ----------------------------------------------------------------------
    def instance(self, identifier: str) -> dict[str, Any] | None:
        with ignoring("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            found = call(self.c.describe_db_instances, "rds:DescribeDBInstances",
                         DBInstanceIdentifier=identifier)["DBInstances"]
            return dict(found[0]) if found else None
        return None

    def create_instance(self, tags: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        identifier = str(kwargs["DBInstanceIdentifier"])
        return create_or_adopt(
            lambda: dict(call(self.once.create_db_instance, "rds:CreateDBInstance", Tags=tag_list(tags),
                              **kwargs)["DBInstance"]),
            lambda: self.instance(identifier), "rds:CreateDBInstance",
            exists=("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"))

    def modify_instance(self, identifier: str, **kwargs: Any) -> None:
        call(self.c.modify_db_instance, "rds:ModifyDBInstance", DBInstanceIdentifier=identifier,
             ApplyImmediately=True, **kwargs)

    def delete_instance(self, identifier: str, final_snapshot: str | None) -> None:
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": identifier}
        if final_snapshot:
            kwargs["FinalDBSnapshotIdentifier"] = final_snapshot
        else:
            kwargs["SkipFinalSnapshot"] = True
        with ignoring("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            call(self.c.delete_db_instance, "rds:DeleteDBInstance", **kwargs)

    def wait_instance(self, identifier: str, *, gone: bool = False, progress: ProgressCallback | None = None,
                      clock: Clock | None = None) -> dict[str, Any] | None:
        def check() -> Poll[dict[str, Any]]:
            db = self.instance(identifier)
            if db is None:
                return Poll.finished({}, "deleted") if gone else Poll.pending("missing")
            state = str(db.get("DBInstanceStatus", "unknown"))
            if not gone and state == "available":
                return Poll.finished(db, state)
            if state in ("failed", "incompatible-parameters", "incompatible-network", "storage-full"):
                from tscloud_py.errors import AwsError

                raise AwsError("rds:DescribeDBInstances", state, f"database {identifier} is {state}")
            return Poll.pending(state)

        result = wait_for(check, what=f"database {identifier} {'deleted' if gone else 'available'}",
                          policy=DB_WAIT, clock=clock, progress=progress)
        return result or None

    # -- aurora clusters ---------------------------------------------------------------
    def cluster(self, identifier: str) -> dict[str, Any] | None:
        with ignoring("DBClusterNotFoundFault"):
            found = call(self.c.describe_db_clusters, "rds:DescribeDBClusters",
                         DBClusterIdentifier=identifier)["DBClusters"]
            return dict(found[0]) if found else None
        return None

    def create_cluster(self, tags: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        identifier = str(kwargs["DBClusterIdentifier"])
        return create_or_adopt(
            lambda: dict(call(self.once.create_db_cluster, "rds:CreateDBCluster", Tags=tag_list(tags),
                              **kwargs)["DBCluster"]),
            lambda: self.cluster(identifier), "rds:CreateDBCluster",
            exists=("DBClusterAlreadyExists", "DBClusterAlreadyExistsFault"))

    def modify_cluster(self, identifier: str, **kwargs: Any) -> None:
        call(self.c.modify_db_cluster, "rds:ModifyDBCluster", DBClusterIdentifier=identifier,
             ApplyImmediately=True, **kwargs)

    def delete_cluster(self, identifier: str, final_snapshot: str | None) -> None:
        kwargs: dict[str, Any] = {"DBClusterIdentifier": identifier}
        if final_snapshot:
            kwargs["FinalDBSnapshotIdentifier"] = final_snapshot
        else:
            kwargs["SkipFinalSnapshot"] = True
        with ignoring("DBClusterNotFoundFault"):
            call(self.c.delete_db_cluster, "rds:DeleteDBCluster", **kwargs)

    def wait_cluster(self, identifier: str, *, gone: bool = False, progress: ProgressCallback | None = None,
                     clock: Clock | None = None) -> dict[str, Any] | None:
        def check() -> Poll[dict[str, Any]]:
            cl = self.cluster(identifier)
            if cl is None:
                return Poll.finished({}, "deleted") if gone else Poll.pending("missing")
            state = str(cl.get("Status", "unknown"))
            if not gone and state == "available":
                return Poll.finished(cl, state)
            return Poll.pending(state)

        result = wait_for(check, what=f"database cluster {identifier} {'deleted' if gone else 'available'}",
                          policy=DB_WAIT, clock=clock, progress=progress)
        return result or None

    def snapshots(self, identifier: str) -> list[dict[str, Any]]:
        return list(call(self.c.describe_db_snapshots, "rds:DescribeDBSnapshots",
                         DBInstanceIdentifier=identifier)["DBSnapshots"])
