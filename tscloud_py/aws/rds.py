"""RDS: subnet groups, Postgres instances, Aurora clusters, snapshots."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.retry import create_or_adopt
from tscloud_py.aws.session import call, ignoring, paginate
from tscloud_py.aws.waiters import Poll, ProgressCallback, WaitPolicy, wait_for

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.waiters import Clock

DB_WAIT = WaitPolicy(timeout=3600, first_interval=5, max_interval=30)


@dataclass(frozen=True)
class DbSettings:
    """What is kept converged on a Postgres instance or an Aurora cluster: each one changes in place."""

    backup_retention: int
    deletion_protection: bool
    security_groups: tuple[str, ...]
    instance_class: str | None = None  # a Postgres instance
    storage: int | None = None  # GiB, a Postgres instance
    capacity: tuple[float, float] | None = None  # Aurora Serverless v2 ACUs, (min, max)
    public: bool | None = None  # an instance; a cluster has no such setting
    parameter_group: str | None = None  # an instance's DB parameter group, a cluster's cluster parameter group

    @classmethod
    def of(cls, described: dict[str, Any], *, aurora: bool) -> DbSettings:
        """The settings of a DescribeDBInstances/DescribeDBClusters answer, in the shape of ``want``."""
        groups = tuple(sorted(str(g["VpcSecurityGroupId"]) for g in described.get("VpcSecurityGroups", [])))
        base = cls(int(described.get("BackupRetentionPeriod") or 0), bool(described.get("DeletionProtection")),
                   groups)
        if aurora:
            scaling = described.get("ServerlessV2ScalingConfiguration") or {}
            return cls(base.backup_retention, base.deletion_protection, groups,
                       capacity=(float(scaling.get("MinCapacity") or 0), float(scaling.get("MaxCapacity") or 0)),
                       parameter_group=described.get("DBClusterParameterGroup"))
        parameter_groups = [str(g.get("DBParameterGroupName")) for g in described.get("DBParameterGroups") or []]
        return cls(base.backup_retention, base.deletion_protection, groups,
                   instance_class=described.get("DBInstanceClass"), storage=described.get("AllocatedStorage"),
                   public=bool(described.get("PubliclyAccessible")),
                   parameter_group=parameter_groups[0] if parameter_groups else None)

    def differences(self, have: DbSettings) -> dict[str, tuple[Any, Any]]:
        """Each setting this one sets that ``have`` does not match: name -> (have, want)."""
        out: dict[str, tuple[Any, Any]] = {}
        for f in fields(self):
            want, current = getattr(self, f.name), getattr(have, f.name)
            if want is not None and want != current:
                out[f.name] = (current, want)
        return out

    def api(self, only: set[str] | None = None) -> dict[str, Any]:
        """The settings as CreateDB*/ModifyDB* arguments (``only`` those named)."""
        named: dict[str, dict[str, Any]] = {
            "backup_retention": {"BackupRetentionPeriod": self.backup_retention},
            "deletion_protection": {"DeletionProtection": self.deletion_protection},
            "security_groups": {"VpcSecurityGroupIds": list(self.security_groups)},
            "instance_class": {"DBInstanceClass": self.instance_class},
            "storage": {"AllocatedStorage": self.storage},
            "capacity": {"ServerlessV2ScalingConfiguration": {"MinCapacity": self.capacity[0],
                                                              "MaxCapacity": self.capacity[1]}}
            if self.capacity else {},
            "public": {"PubliclyAccessible": self.public},
            "parameter_group": {"DBClusterParameterGroupName" if self.capacity else "DBParameterGroupName":
                                self.parameter_group},
        }
        out: dict[str, Any] = {}
        for name, args in named.items():
            if getattr(self, name) is not None and (only is None or name in only):
                out.update(args)
        return out


@dataclass(frozen=True)
class NewDatabase:
    """The fixed parts of a new database: encrypted, private, its password managed by Secrets Manager."""

    identifier: str
    subnet_group: str
    database: str
    username: str
    version: str | None = None


class Rds:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("rds", region)
        self.once = factory.client("rds", region, once=True)  # creates have no token: see create_or_adopt

    def engine_versions(self, engine: str) -> list[str]:
        """Every version of ``engine`` RDS offers in this region (DescribeDBEngineVersions)."""
        return [str(v["EngineVersion"]) for v in paginate(self.c, "describe_db_engine_versions", "DBEngineVersions",
                                                          Engine=engine)]

    def default_family(self, engine: str, version: str | None) -> str:
        """The parameter group family of ``engine`` at ``version``, or at the version a create without one
        gets (RDS's default)."""
        kwargs: dict[str, Any] = {"EngineVersion": version} if version else {"DefaultOnly": True}
        found = call(self.c.describe_db_engine_versions, "rds:DescribeDBEngineVersions", Engine=engine,
                     **kwargs)["DBEngineVersions"]
        if not found:  # a major version alone (postgres = "16") names its family
            return f"{engine}{str(version).split('.')[0]}"
        return str(found[0]["DBParameterGroupFamily"])

    # -- parameter groups: an instance's, or (cluster=True) an Aurora cluster's ------------------------------
    def parameter_group(self, name: str, *, cluster: bool) -> dict[str, str] | None:
        """The parameters set on our group (Source user), None when the group does not exist."""
        with ignoring("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"):
            if cluster:
                found = call(self.c.describe_db_cluster_parameters, "rds:DescribeDBClusterParameters",
                             DBClusterParameterGroupName=name, Source="user")["Parameters"]
            else:
                found = paginate(self.c, "describe_db_parameters", "Parameters", DBParameterGroupName=name,
                                 Source="user")
            return {str(p["ParameterName"]): str(p.get("ParameterValue")) for p in found}
        return None

    def create_parameter_group(self, name: str, family: str, description: str, tags: dict[str, str], *,
                               cluster: bool) -> None:
        def create() -> None:
            if cluster:
                call(self.once.create_db_cluster_parameter_group, "rds:CreateDBClusterParameterGroup",
                     DBClusterParameterGroupName=name, DBParameterGroupFamily=family, Description=description,
                     Tags=tag_list(tags))
            else:
                call(self.once.create_db_parameter_group, "rds:CreateDBParameterGroup", DBParameterGroupName=name,
                     DBParameterGroupFamily=family, Description=description, Tags=tag_list(tags))

        create_or_adopt(create, lambda: True if self.parameter_group(name, cluster=cluster) is not None else None,
                        "rds:CreateDBParameterGroup",
                        exists=("DBParameterGroupAlreadyExists", "DBParameterGroupAlreadyExistsFault"))

    def set_parameters(self, name: str, values: dict[str, str], *, cluster: bool) -> None:
        """Dynamic parameters, applied at once."""
        params = [{"ParameterName": k, "ParameterValue": v, "ApplyMethod": "immediate"}
                  for k, v in sorted(values.items())]
        if cluster:
            call(self.c.modify_db_cluster_parameter_group, "rds:ModifyDBClusterParameterGroup",
                 DBClusterParameterGroupName=name, Parameters=params)
        else:
            call(self.c.modify_db_parameter_group, "rds:ModifyDBParameterGroup", DBParameterGroupName=name,
                 Parameters=params)

    def delete_parameter_group(self, name: str, *, cluster: bool) -> None:
        with ignoring("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"):
            if cluster:
                call(self.c.delete_db_cluster_parameter_group, "rds:DeleteDBClusterParameterGroup",
                     DBClusterParameterGroupName=name)
            else:
                call(self.c.delete_db_parameter_group, "rds:DeleteDBParameterGroup", DBParameterGroupName=name)

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

    def create_postgres(self, new: NewDatabase, settings: DbSettings, tags: dict[str, str]) -> dict[str, Any]:
        args: dict[str, Any] = {
            "DBInstanceIdentifier": new.identifier, "Engine": "postgres", "DBName": new.database,
            "MasterUsername": new.username, "ManageMasterUserPassword": True, "StorageEncrypted": True,
            "StorageType": "gp3", "DBSubnetGroupName": new.subnet_group, "CopyTagsToSnapshot": True,
            "EnablePerformanceInsights": False, "AutoMinorVersionUpgrade": True, **settings.api(),
        }
        if new.version:
            args["EngineVersion"] = new.version
        return self._create_instance(args, tags)

    def create_aurora_writer(self, identifier: str, cluster: str, tags: dict[str, str]) -> dict[str, Any]:
        """The cluster's one Serverless v2 instance, private."""
        return self._create_instance({"DBInstanceIdentifier": identifier, "Engine": "aurora-postgresql",
                                      "DBInstanceClass": "db.serverless", "DBClusterIdentifier": cluster,
                                      "PubliclyAccessible": False}, tags)

    def _create_instance(self, args: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
        identifier = str(args["DBInstanceIdentifier"])
        return create_or_adopt(
            lambda: dict(call(self.once.create_db_instance, "rds:CreateDBInstance", Tags=tag_list(tags),
                              **args)["DBInstance"]),
            lambda: self.instance(identifier), "rds:CreateDBInstance",
            exists=("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"))

    def modify_instance(self, identifier: str, settings: DbSettings, only: set[str]) -> None:
        """Change the ``only`` named settings, at once (not in the next maintenance window)."""
        call(self.c.modify_db_instance, "rds:ModifyDBInstance", DBInstanceIdentifier=identifier,
             ApplyImmediately=True, **settings.api(only))

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

    def create_aurora_cluster(self, new: NewDatabase, settings: DbSettings,
                              tags: dict[str, str]) -> dict[str, Any]:
        args: dict[str, Any] = {
            "DBClusterIdentifier": new.identifier, "Engine": "aurora-postgresql", "DatabaseName": new.database,
            "MasterUsername": new.username, "ManageMasterUserPassword": True, "StorageEncrypted": True,
            "DBSubnetGroupName": new.subnet_group, "CopyTagsToSnapshot": True, **settings.api(),
        }
        if new.version:
            args["EngineVersion"] = new.version
        return create_or_adopt(
            lambda: dict(call(self.once.create_db_cluster, "rds:CreateDBCluster", Tags=tag_list(tags),
                              **args)["DBCluster"]),
            lambda: self.cluster(new.identifier), "rds:CreateDBCluster",
            exists=("DBClusterAlreadyExists", "DBClusterAlreadyExistsFault"))

    def modify_cluster(self, identifier: str, settings: DbSettings, only: set[str]) -> None:
        call(self.c.modify_db_cluster, "rds:ModifyDBCluster", DBClusterIdentifier=identifier,
             ApplyImmediately=True, **settings.api(only))

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
