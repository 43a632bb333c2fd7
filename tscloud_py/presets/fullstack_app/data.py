"""Data tier: RDS Postgres or Aurora Serverless v2, ElastiCache Redis, SQS with a dead-letter queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import fields as dataclass_fields
from typing import Any

from tscloud_py.aws.elasticache import (
    ElastiCache,
    RedisGroup,
    ReplicaCall,
    Replication,
    resize_calls,
)
from tscloud_py.aws.rds import DbSettings, NewDatabase, Rds
from tscloud_py.aws.secrets import Secrets
from tscloud_py.aws.sqs import Sqs
from tscloud_py.concurrency import together
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import TscloudError
from tscloud_py.presets.fullstack_app.common import FsStep, compare
from tscloud_py.presets.naming import Names, token

_WRITER = "writer instance"
_PARAMETERS = "parameter group"
_FORCE_SSL = "rds.force_ssl"  # Postgres refuses connections without TLS
_FAILOVER = "automatic failover + Multi-AZ"


def _switches(have: Replication) -> str:
    if have.failover == have.multi_az:
        return "on" if have.failover else "off"
    return f"failover {'on' if have.failover else 'off'}, Multi-AZ {'on' if have.multi_az else 'off'}"


def _final_snapshot(identifier: str) -> str:
    return f"{identifier}-final-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"


class DatabaseStep(FsStep):
    """Postgres with ManageMasterUserPassword: the password lives only in Secrets Manager."""

    kind = "RDS Postgres"
    provides = frozenset({"identifier", "endpoint", "port", "name", "secret_arn", "arn"})

    def __init__(self, step_id: str, rds: Rds, config: Config, names: Names, *, needs: Sequence[str], network: Step,
                 security_groups: Step, no_snapshot: bool = False) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.rds = rds
        self.subnets: Ref[list[str]] = network.output("data_subnets")
        self.security_group: Ref[str] = security_groups.output("db_sg")
        self.no_snapshot = no_snapshot

    @property
    def identifier(self) -> str:
        return self.names.resource("db", 63)

    @property
    def aurora(self) -> bool:
        db = self.config.database
        return db is not None and db.engine == "aurora-postgresql"

    @property
    def deletion_protection(self) -> bool:
        db = self.config.database
        assert db is not None
        return db.deletion_protection if db.deletion_protection is not None else self.config.is_production

    def read(self, ctx: StepContext) -> Any | None:
        rds = self.rds

        def parameters() -> dict[str, str] | None:
            return rds.parameter_group(self.identifier, cluster=self.aurora)

        if self.aurora:
            group, cluster, writer, params = together(lambda: rds.subnet_group(self.identifier),
                                                      lambda: rds.cluster(self.identifier),
                                                      lambda: rds.instance(f"{self.identifier}-1"), parameters)
            if group is None and cluster is None and params is None:
                return None
            return {"subnet_group": group, "cluster": cluster, "instance": writer, "parameters": params}
        group, inst, params = together(lambda: rds.subnet_group(self.identifier),
                                       lambda: rds.instance(self.identifier), parameters)
        if group is None and inst is None and params is None:
            return None
        return {"subnet_group": group, "instance": inst, "parameters": params}

    def _wanted(self, ctx: StepContext) -> DbSettings:
        db = self.config.database
        assert db is not None
        groups = (ctx.get(self.security_group),)
        if self.aurora:
            return DbSettings(db.backup_retention, self.deletion_protection, groups,
                              capacity=(db.min_capacity, db.max_capacity), parameter_group=self.identifier)
        return DbSettings(db.backup_retention, self.deletion_protection, groups, instance_class=db.instance_class,
                          storage=db.storage, public=False, parameter_group=self.identifier)

    def _changes(self, ctx: StepContext, observed: dict[str, Any]) -> list[Change]:
        """What differs, the one computation behind diff and apply (a change's field says what to do)."""
        subnets = sorted(ctx.get(self.subnets))
        changes: list[Change] = []
        group = observed.get("subnet_group")
        if group is None:
            changes.append(Change("subnet group", None, subnets))
        else:
            compare(changes, "subnet group", sorted(s["SubnetIdentifier"] for s in group.get("Subnets", [])),
                    subnets)
        parameters = observed.get("parameters")
        if parameters is None:
            changes.append(Change(_PARAMETERS, None, f"{self.identifier}: {_FORCE_SSL} = 1 (TLS only)"))
        elif parameters.get(_FORCE_SSL) != "1":
            changes.append(Change(_FORCE_SSL, parameters.get(_FORCE_SSL), "1"))
        res = observed.get("cluster") if self.aurora else observed.get("instance")
        if res is None:
            changes.append(Change("database", None, self.identifier))
        else:
            have = DbSettings.of(res, aurora=self.aurora)
            # a new parameter group on a running database takes effect at its next reboot (AWS's rule)
            changes += [Change(name, old, f"{new} (from the next reboot)" if name == "parameter_group" else new)
                        for name, (old, new) in self._wanted(ctx).differences(have).items()]
            if not res.get("StorageEncrypted"):
                changes.append(Change("StorageEncrypted", False, True, destructive=True))
            state = res.get("Status") if self.aurora else res.get("DBInstanceStatus")
            if state not in ("available", "backing-up", "modifying"):
                changes.append(Change("status", state, "available"))
        if self.aurora and observed.get("instance") is None:
            changes.append(Change(_WRITER, None, f"{self.identifier}-1 (db.serverless)"))
        return changes

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("database", None, self.identifier)]
        return self._changes(ctx, observed)

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        db = self.config.database
        assert db is not None
        rds = self.rds
        changes = {c.field: c for c in self._changes(ctx, observed or {})}
        if "subnet group" in changes:
            subnets = sorted(ctx.get(self.subnets))
            if changes["subnet group"].old is None:
                rds.create_subnet_group(self.identifier, subnets, self.tags)
            else:
                rds.modify_subnet_group(self.identifier, subnets)
        if _PARAMETERS in changes:
            family = rds.default_family(db.engine, db.version)
            rds.create_parameter_group(self.identifier, family, self.names.description("database"), self.tags,
                                       cluster=self.aurora)
        if changes.keys() & {_PARAMETERS, _FORCE_SSL}:
            rds.set_parameters(self.identifier, {_FORCE_SSL: "1"}, cluster=self.aurora)
        want = self._wanted(ctx)
        settings = {f.name for f in dataclass_fields(DbSettings)} & set(changes)
        new = NewDatabase(self.identifier, self.identifier, db.name, db.username, db.version)
        if self.aurora:
            if "database" in changes:
                rds.create_aurora_cluster(new, want, self.tags)
            elif settings:
                rds.modify_cluster(self.identifier, want, settings)
            if _WRITER in changes:
                rds.create_aurora_writer(f"{self.identifier}-1", self.identifier, self.tags)
            final = rds.wait_cluster(self.identifier, progress=ctx.progress(), clock=ctx.clock)
            rds.wait_instance(f"{self.identifier}-1", progress=ctx.progress(), clock=ctx.clock)
            return self.outputs(ctx, {"cluster": final, "subnet_group": True})
        if "database" in changes:
            rds.create_postgres(new, want, self.tags)
        elif settings:
            rds.modify_instance(self.identifier, want, settings)
        final = rds.wait_instance(self.identifier, progress=ctx.progress(), clock=ctx.clock)
        return self.outputs(ctx, {"instance": final, "subnet_group": True})

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        db = self.config.database
        assert db is not None
        if self.aurora:
            res = observed["cluster"]
            endpoint, port = res.get("Endpoint"), res.get("Port")
            arn = res.get("DBClusterArn")
        else:
            res = observed["instance"]
            endpoint, port = res.get("Endpoint", {}).get("Address"), res.get("Endpoint", {}).get("Port")
            arn = res.get("DBInstanceArn")
        secret = (res.get("MasterUserSecret") or {}).get("SecretArn")
        if not endpoint or not secret:
            raise TscloudError(f"database {self.identifier} has no endpoint or managed secret yet",
                               "re-run `tscloud deploy` once it is available")
        return {"identifier": self.identifier, "endpoint": endpoint, "port": int(port or 5432), "name": db.name,
                "secret_arn": secret, "arn": arn}

    def destroy_refusal(self, observed: Any) -> tuple[str, str] | None:
        if self.config.database is not None and self.config.database.retain:
            return None  # kept, not deleted
        res = observed.get("cluster") if self.aurora else observed.get("instance")
        if res is not None and res.get("DeletionProtection"):
            return (f"database {self.identifier} has deletion protection on",
                    "set [database] deletion_protection = false and deploy, then destroy")
        return None

    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        if self.config.database is not None and self.config.database.retain:
            ctx.log(f"retain = true: keeping database {self.identifier}")
            return "kept"
        rds = self.rds
        res = observed.get("cluster") if self.aurora else observed.get("instance")
        refusal = self.destroy_refusal(observed)
        if refusal is not None:
            raise TscloudError(*refusal)
        snapshot = None if self.no_snapshot else _final_snapshot(self.identifier)
        if self.aurora:
            if observed.get("instance") is not None:
                rds.delete_instance(f"{self.identifier}-1", None)
                rds.wait_instance(f"{self.identifier}-1", gone=True, progress=ctx.progress(), clock=ctx.clock)
            if observed.get("cluster") is not None:
                rds.delete_cluster(self.identifier, snapshot)
                rds.wait_cluster(self.identifier, gone=True, progress=ctx.progress(), clock=ctx.clock)
        elif res is not None:
            rds.delete_instance(self.identifier, snapshot)
            rds.wait_instance(self.identifier, gone=True, progress=ctx.progress(), clock=ctx.clock)
        if snapshot and res is not None:
            ctx.log(f"final snapshot: {snapshot}")
        rds.delete_subnet_group(self.identifier)
        rds.delete_parameter_group(self.identifier, cluster=self.aurora)
        return None

    def destroy_changes(self, observed: Any) -> list[Change]:
        if self.config.database is not None and self.config.database.retain:
            return [Change(f"database {self.identifier} kept (retain = true)")]
        keep = "no final snapshot" if self.no_snapshot else "a final snapshot is kept"
        return [Change(f"delete database {self.identifier} ({keep})", destructive=True)]


class CacheStep(FsStep):
    """Redis replication group: transit + at-rest encryption, an AUTH token kept in Secrets Manager."""

    kind = "ElastiCache Redis"
    provides = frozenset({"group_id", "endpoint", "port", "auth_secret_arn", "tls"})

    def __init__(self, step_id: str, elasticache: ElastiCache, secrets: Secrets, config: Config, names: Names, *,
                 needs: Sequence[str], network: Step, security_groups: Step, no_snapshot: bool = False) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.elasticache, self.secrets = elasticache, secrets
        self.subnets: Ref[list[str]] = network.output("data_subnets")
        self.security_group: Ref[str] = security_groups.output("cache_sg")
        self.no_snapshot = no_snapshot

    @property
    def group_id(self) -> str:
        return self.names.resource("redis", 40)

    @property
    def secret_name(self) -> str:
        return self.names.secret("redis-auth")

    def read(self, ctx: StepContext) -> Any | None:
        secret, group, rg = together(lambda: self.secrets.describe(self.secret_name),
                                     lambda: self.elasticache.subnet_group(self.group_id),
                                     lambda: self.elasticache.replication_group(self.group_id))
        if secret is None and group is None and rg is None:
            return None
        return {"secret": secret, "subnet_group": group, "group": rg}

    def _plan(self, observed: dict[str, Any]) -> tuple[list[Change], list[ReplicaCall]]:
        """What differs and the resize calls it takes, in AWS's order: the one computation behind diff and
        apply (a change's field says what else to do)."""
        cache = self.config.cache
        assert cache is not None
        changes: list[Change] = []
        if observed.get("secret") is None:
            changes.append(Change("auth token secret", None, self.secret_name))
        if observed.get("subnet_group") is None:
            changes.append(Change("subnet group", None, self.group_id))
        rg = observed.get("group")
        if rg is None:
            changes.append(Change("replication group", None, self.group_id))
            return changes, []
        compare(changes, "CacheNodeType", rg.get("CacheNodeType"), cache.node_type)
        have = Replication.of(rg)
        calls = resize_calls(have, Replication.wanted(cache.replicas))
        for step in calls:
            if step.kind == "replicas":
                changes.append(Change("read replicas", have.replicas, step.count))
            else:
                changes.append(Change(_FAILOVER, _switches(have), "on" if step.on else "off"))
        if not rg.get("TransitEncryptionEnabled", True):
            changes.append(Change("TransitEncryptionEnabled", False, True, destructive=True))
        if rg.get("Status") not in ("available", "modifying", "snapshotting"):
            changes.append(Change("status", rg.get("Status"), "available"))
        return changes, calls

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("redis", None, self.group_id)]
        return self._plan(observed)[0]

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        cache = self.config.cache
        assert cache is not None
        ec = self.elasticache
        found, calls = self._plan(observed or {})
        changes = {c.field for c in found}
        if "auth token secret" in changes:
            self.secrets.create_random(self.secret_name, f"Redis AUTH token of {self.group_id}", self.tags,
                                           token=token(self.secret_name, "v1"), length=64)
        if "subnet group" in changes:
            ec.create_subnet_group(self.group_id, sorted(ctx.get(self.subnets)), self.tags)
        if "replication group" in changes:
            group = RedisGroup(self.group_id, self.names.description(), cache.node_type, cache.replicas,
                               subnet_group=self.group_id, security_group=ctx.get(self.security_group))
            ec.create_replication_group(group, self.secrets.value(self.secret_name), self.tags)
        elif "CacheNodeType" in changes:
            ec.change_node_type(self.group_id, cache.node_type)
        ec.resize(self.group_id, calls, progress=ctx.progress(), clock=ctx.clock)
        final = ec.wait(self.group_id, progress=ctx.progress(), clock=ctx.clock)
        secret = self.secrets.describe(self.secret_name)
        return self.outputs(ctx, {"group": final, "secret": secret})

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        rg = observed["group"]
        if rg is None:  # half made (its secret, no group yet): no outputs, as for a step never applied
            raise KeyError("group")
        groups = rg.get("NodeGroups") or [{}]
        endpoint = groups[0].get("PrimaryEndpoint") or rg.get("ConfigurationEndpoint") or {}
        if not endpoint.get("Address") or observed.get("secret") is None:
            raise TscloudError(f"redis {self.group_id} has no endpoint yet", "re-run `tscloud deploy`")
        return {"group_id": self.group_id, "endpoint": endpoint["Address"], "port": int(endpoint.get("Port", 6379)),
                "auth_secret_arn": observed["secret"]["ARN"], "tls": True}

    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        if self.config.cache is not None and self.config.cache.retain:
            ctx.log(f"retain = true: keeping redis {self.group_id} and its auth token")
            return "kept"
        ec = self.elasticache
        if observed.get("group") is not None:
            snapshot = None if self.no_snapshot else _final_snapshot(self.group_id)
            ec.delete_replication_group(self.group_id, snapshot)
            ec.wait(self.group_id, gone=True, progress=ctx.progress(), clock=ctx.clock)
        ec.delete_subnet_group(self.group_id)
        self.secrets.delete(self.secret_name)
        return None


class QueueStep(FsStep):
    """An SQS queue with server-side encryption and a dead-letter queue (redrive after max_receive_count)."""

    kind = "SQS"
    provides = frozenset({"queue_url", "queue_name", "queue_arn", "dlq_url", "dlq_arn"})

    def __init__(self, step_id: str, sqs: Sqs, config: Config, names: Names, *, account: Callable[[], str]) -> None:
        super().__init__(step_id, config, names)
        self.sqs = sqs
        self.account = account

    @property
    def queue_names(self) -> tuple[str, str]:
        return self.names.resource("jobs", 80), self.names.resource("jobs-dlq", 80)

    def read(self, ctx: StepContext) -> Any | None:
        sqs = self.sqs

        def one(qname: str) -> dict[str, Any] | None:
            url = sqs.queue_url(qname)
            if url is None:
                return None
            attributes, tags = together(lambda: sqs.attributes(url), lambda: sqs.tags(url))
            return {"url": url, "attributes": attributes, "tags": tags}

        queue, dlq = together(lambda: one(self.queue_names[0]), lambda: one(self.queue_names[1]))
        found = {key: q for key, q in (("queue", queue), ("dlq", dlq)) if q is not None}
        return found or None

    def _wanted(self, dlq_arn: str) -> tuple[dict[str, str], dict[str, str]]:
        q = self.config.queue
        assert q is not None
        queue = {"VisibilityTimeout": str(q.visibility_timeout),
                 "MessageRetentionPeriod": str(q.retention_days * 86400),
                 "SqsManagedSseEnabled": "true",
                 "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                              "maxReceiveCount": q.max_receive_count})}
        dlq = {"MessageRetentionPeriod": str(14 * 86400), "SqsManagedSseEnabled": "true"}
        return queue, dlq

    def _dlq_arn(self) -> str:
        return self.names.arn(self.account(), "sqs", self.queue_names[1])

    @staticmethod
    def _attr_changes(have: dict[str, str], want: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in want.items():
            current = have.get(key)
            if key == "RedrivePolicy":
                a = json.loads(current) if current else {}
                b = json.loads(value)
                same = a.get("deadLetterTargetArn") == b["deadLetterTargetArn"] and \
                    str(a.get("maxReceiveCount")) == str(b["maxReceiveCount"])
            elif key == "SqsManagedSseEnabled" and current is None:
                same = True  # not reported by every endpoint; SQS encrypts new queues by default
            else:
                same = current == value
            if not same:
                out[key] = value
        return out

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        name, dlq_name = self.queue_names
        if observed is None:
            return [Change("queue", None, name), Change("dead-letter queue", None, dlq_name)]
        changes: list[Change] = []
        want_q, want_dlq = self._wanted(self._dlq_arn())
        for key, want, qname in (("dlq", want_dlq, dlq_name), ("queue", want_q, name)):
            if key not in observed:
                changes.append(Change(key, None, qname))
                continue
            for attr, value in self._attr_changes(observed[key]["attributes"], want).items():
                changes.append(Change(f"{key} {attr}", observed[key]["attributes"].get(attr), value))
            for tag, value in self.tags.items():
                if observed[key]["tags"].get(tag) != value:
                    changes.append(Change(f"{key} tag {tag}", observed[key]["tags"].get(tag), value))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        name, dlq_name = self.queue_names
        observed = dict(observed or {})
        want_q, want_dlq = self._wanted(self._dlq_arn())
        for key, want, qname in (("dlq", want_dlq, dlq_name), ("queue", want_q, name)):
            if key not in observed:
                url = self.sqs.create(qname, want, self.tags)
                observed[key] = {"url": url, "attributes": self.sqs.attributes(url), "tags": self.tags}
                continue
            delta = self._attr_changes(observed[key]["attributes"], want)
            if delta:
                self.sqs.set_attributes(observed[key]["url"], delta)
            if any(observed[key]["tags"].get(k) != v for k, v in self.tags.items()):
                self.sqs.tag(observed[key]["url"], self.tags)
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        name, _dlq_name = self.queue_names
        return {"queue_url": observed["queue"]["url"], "queue_name": name, "queue_arn": self.names.arn(self.account(), "sqs", name),
                "dlq_url": observed["dlq"]["url"], "dlq_arn": self._dlq_arn()}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for key in ("queue", "dlq"):
            if key in observed:
                self.sqs.delete(observed[key]["url"])
