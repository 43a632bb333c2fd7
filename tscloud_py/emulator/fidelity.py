"""Where moto is wrong (not merely lax), make the embedded emulator behave like AWS.

Each fix names the AWS behaviour it restores. They patch moto's classes in this
process, so they cover the in-process emulator, `tscloud local serve`, and the
test suite's moto server alike. Idempotent.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import threading
from typing import Any

_applied = False


def patch_moto_fidelity() -> None:
    global _applied
    if _applied:
        return
    try:
        import moto  # noqa: F401
    except ImportError:
        return
    _bucket_policy_conditions()
    _keep_cloudfront_origin_fields()
    _cloudfront_distribution_arns()
    _full_distribution_summaries()
    _empty_base_path_mappings()
    _v2_domain_regional_targets()
    _elasticache_delete_finishes()
    _elasticache_replica_counts()
    _lambda_runs_node_functions()
    from tscloud_py.emulator.cloudfront_functions import add_cloudfront_functions

    add_cloudfront_functions()
    _atomic_conditional_writes()
    _schedule_client_tokens()
    _unique_oac_names()
    _one_mapping_per_queue_and_function()
    _applied = True


def _bucket_policy_conditions() -> None:
    """In AWS a statement whose Condition is not met does not apply.

    moto ignores operators it does not know (Bool among them) and so applies a
    conditional Deny to everything: a TLS-only bucket policy (Deny when
    aws:SecureTransport is false) would refuse every object write. The emulator
    stands in for AWS's TLS endpoints, so every request counts as secure.
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> Any:
        incoming = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        condition = self._statement.get("Condition")
        if condition and not conditions_met(condition, incoming):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, None if condition else incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]


def conditions_met(condition: dict[str, dict[str, Any]], values: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators our policies use; a missing key is unmet."""
    lowered = {k.lower(): v for k, v in values.items()}
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = lowered.get(key.lower())
            if actual is None:
                return False
            options = expected if isinstance(expected, list) else [expected]
            if operator == "Bool":
                ok = any(str(actual).lower() == str(o).lower() for o in options)
            elif operator in ("StringEquals", "ArnEquals"):
                ok = actual in options
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, str(o)) for o in options)
            elif operator in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in options
            else:
                return False
            if not ok:
                return False
    return True


def _keep_cloudfront_origin_fields() -> None:
    """AWS returns an origin's OriginAccessControlId and S3OriginConfig; moto drops both."""
    from moto.cloudfront import models

    original_init = models.Origin.__init__

    def init(self: Any, origin: dict[str, Any]) -> None:
        original_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in origin:
            self.s3_origin_config = dict(origin["S3OriginConfig"])

    models.Origin.__init__ = init  # type: ignore[method-assign]


def _cloudfront_distribution_arns() -> None:
    """CloudFront is global: AWS's distribution ARN has an empty region field,
    ``arn:aws:cloudfront::ACCOUNT:distribution/ID``. moto 5.2.1 drops that field
    (``arn:aws:cloudfront:ACCOUNT:distribution/ID``); 5.2.5 has AWS's shape."""
    from moto.cloudfront import models

    original_init = models.Distribution.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        head, sep, rest = self.arn.partition(":cloudfront:")
        if sep and not rest.startswith(":"):
            self.arn = f"{head}:cloudfront::{rest}"

    models.Distribution.__init__ = init  # type: ignore[method-assign]


# the members of AWS's DistributionSummary that come from the distribution's config
SUMMARY_CONFIG_FIELDS = ("Aliases", "Origins", "OriginGroups", "DefaultCacheBehavior", "CacheBehaviors",
                         "CustomErrorResponses", "Comment", "PriceClass", "Enabled", "ViewerCertificate",
                         "Restrictions", "WebACLId", "HttpVersion", "IsIPV6Enabled")


def _full_distribution_summaries() -> None:
    """AWS's ListDistributions summary carries the config's Comment, Origins, behaviors, ...; moto 5.2.1
    leaves them out (a reader would fetch every config to find its distribution by Comment); 5.2.5 fills
    them, the same way as here."""
    from moto.cloudfront import models

    if "__getattr__" in vars(models.Distribution):
        return

    def getattr_(self: Any, name: str) -> Any:
        if name in SUMMARY_CONFIG_FIELDS:
            return getattr(self.distribution_config, name)
        raise AttributeError(name)

    models.Distribution.__getattr__ = getattr_  # type: ignore[attr-defined]


def _empty_base_path_mappings() -> None:
    """AWS lists no base path mappings for a new domain name; moto 5.2 raises KeyError (HTTP 500)."""
    from moto.apigateway.exceptions import BasePathNotFoundException, DomainNameNotFound
    from moto.apigateway.models import APIGatewayBackend

    def get_all(self: Any, domain_name: str) -> list[Any]:
        if domain_name not in self.domain_names:
            raise DomainNameNotFound()
        return list(self.base_path_mappings.get(domain_name, {}).values())

    def get_one(self: Any, domain_name: str, base_path: str) -> Any:
        if domain_name not in self.domain_names:
            raise DomainNameNotFound()
        if base_path not in self.base_path_mappings.get(domain_name, {}):
            raise BasePathNotFoundException()
        return self.base_path_mappings[domain_name][base_path]

    APIGatewayBackend.get_base_path_mappings = get_all  # type: ignore[method-assign]
    APIGatewayBackend.get_base_path_mapping = get_one  # type: ignore[method-assign]


def _v2_domain_regional_targets() -> None:
    """AWS fills each REGIONAL configuration of an apigatewayv2 domain name with its regional target
    (apiGatewayDomainName, hostedZoneId, domainNameStatus); moto 5.2 echoes the request."""
    from moto.apigatewayv2.models import DomainName

    original = DomainName.__init__

    def init(self: Any, domain_name: str, domain_name_configurations: list[dict[str, str]], *args: Any,
             **kwargs: Any) -> None:
        original(self, domain_name, domain_name_configurations, *args, **kwargs)
        region = self.domain_name_arn.split(":")[3]
        suffix = hashlib.sha256(domain_name.encode()).hexdigest()[:10]
        for conf in self.domain_name_configurations:
            conf.setdefault("apiGatewayDomainName", f"d-{suffix}.execute-api.{region}.amazonaws.com")
            conf.setdefault("hostedZoneId", "ZLY8HYME6SFDD")
            conf.setdefault("domainNameStatus", "AVAILABLE")

    DomainName.__init__ = init  # type: ignore[method-assign]


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
    from moto.elasticache.exceptions import ReplicationGroupNotFound
    from moto.elasticache.models import ElastiCacheBackend
    from moto.elasticache.responses import ElastiCacheResponse

    class InvalidState(ServiceException):
        code = "InvalidReplicationGroupState"

    class InvalidValue(ServiceException):
        code = "InvalidParameterValue"

    class InvalidCombination(ServiceException):
        code = "InvalidParameterCombination"

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


def _lambda_runs_node_functions() -> None:
    """Lambda runs a function's code on Invoke; moto does that only in Docker.

    A nodejs function runs here instead, under AWS's runtime client (tscloud_py.emulator.lambda_.invoke),
    and its Function URL, and each REST API stage whose Lambda proxy integration calls it, are
    served on loopback once the emulator serves them (Emulator.start).
    Other runtimes keep moto's Docker execution.
    """
    import json

    from moto.awslambda.models import LambdaBackend, LambdaFunction

    from tscloud_py.emulator.lambda_ import invoke as local_invoke

    invoke = LambdaFunction._invoke_lambda

    def _invoke_lambda(self: Any, event: Any = None) -> Any:
        if local_invoke.runs_here(self):
            return local_invoke.invoke(self, json.dumps(event if event is not None else {}).encode())
        return invoke(self, event)

    create_url = LambdaFunction.create_url_config
    delete_url = LambdaFunction.delete_url_config
    delete_function = LambdaBackend.delete_function

    def create_url_config(self: Any, config: dict[str, Any]) -> Any:
        url_config = create_url(self, config)
        local_invoke.FUNCTION_URLS.add(self, url_config)
        return url_config

    def delete_url_config(self: Any) -> None:
        delete_url(self)
        local_invoke.FUNCTION_URLS.remove(self)

    def delete(self: Any, function_name: str, qualifier: str | None = None) -> Any:
        with contextlib.suppress(Exception):
            local_invoke.FUNCTION_URLS.remove(self.get_function(function_name))
        return delete_function(self, function_name, qualifier)

    from moto.apigateway.models import APIGatewayBackend

    from tscloud_py.emulator.lambda_ import rest_api as local_rest_api

    create_deployment = APIGatewayBackend.create_deployment

    def deploy(self: Any, function_id: str, name: str, *args: Any, **kwargs: Any) -> Any:
        deployment = create_deployment(self, function_id, name, *args, **kwargs)
        local_rest_api.STAGES.add(function_id, name, self.region_name, self.account_id)
        return deployment

    APIGatewayBackend.create_deployment = deploy  # type: ignore[method-assign]
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    LambdaFunction.create_url_config = create_url_config  # type: ignore[method-assign]
    LambdaFunction.delete_url_config = delete_url_config  # type: ignore[method-assign]
    LambdaBackend.delete_function = delete  # type: ignore[method-assign]


def _atomic_conditional_writes() -> None:
    """In AWS a conditional PutObject/DeleteObject (``If-None-Match: *``, ``If-Match``) checks and writes
    atomically: of two racing writes to one key, one wins and the other gets 412 PreconditionFailed (or 409
    ConditionalRequestConflict).

    moto checks the condition, then writes, with nothing between: on its threaded server two racing
    ``If-None-Match: *`` writes can both succeed, so two runs would both take one lock. Every object write
    and delete runs under one lock here, so the check and the write are one step as in S3.
    """
    from moto.s3.responses import S3Response

    guard = threading.Lock()
    for name in ("put_object", "delete_object"):
        original = getattr(S3Response, name)

        def atomic(self: Any, _original: Any = original) -> Any:
            with guard:
                return _original(self)

        setattr(S3Response, name, atomic)


def _schedule_client_tokens() -> None:
    """EventBridge Scheduler's CreateSchedule takes a ClientToken "to ensure the idempotency of the
    request": sent again with the token that created the schedule, AWS answers with that schedule's ARN.

    moto ignores the token and answers ConflictException, so a create whose answer was lost and that the
    SDK sent again (the token unchanged) would fail although the schedule is there, as asked.
    """
    import json

    from moto.scheduler.responses import EventBridgeSchedulerResponse

    original = EventBridgeSchedulerResponse.create_schedule

    def create_schedule(self: Any) -> str:
        token = self._get_param("ClientToken")
        group = self.scheduler_backend.schedule_groups.get(self._get_param("GroupName") or "default")
        existing = group.schedules.get(self.uri.split("?")[0].split("/")[-1]) if group is not None else None
        if token and existing is not None and getattr(existing, "client_token", None) == token:
            return json.dumps({"ScheduleArn": existing.arn})
        answer: str = original(self)
        made = self.scheduler_backend.schedule_groups[self._get_param("GroupName") or "default"].schedules
        made[self.uri.split("?")[0].split("/")[-1]].client_token = token
        return answer

    EventBridgeSchedulerResponse.create_schedule = create_schedule  # type: ignore[method-assign]


def _unique_oac_names() -> None:
    """AWS refuses a second origin access control with a name already taken in the account
    (OriginAccessControlAlreadyExists, 409); moto makes another one with the same name, so a create sent
    twice would leave two where AWS has one."""
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.models import CloudFrontBackend

    original = CloudFrontBackend.create_origin_access_control

    def create(self: Any, config_dict: dict[str, str]) -> Any:
        name = config_dict.get("Name")
        if any(c.name == name for c in self.origin_access_controls.values()):
            raise CloudFrontException("OriginAccessControlAlreadyExists",
                                      f"An origin access control with the name {name} already exists.")
        return original(self, config_dict)

    CloudFrontBackend.create_origin_access_control = create  # type: ignore[method-assign]


def _one_mapping_per_queue_and_function() -> None:
    """AWS refuses a second event source mapping of one SQS queue to one function (ResourceConflictException,
    409, naming the existing mapping's UUID); moto means to but looks the function up under a literal
    string, so a create sent twice would make two mappings."""
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaBackend

    class Conflict(LambdaClientError):
        code = 409

    original = LambdaBackend.create_event_source_mapping

    def create(self: Any, spec: dict[str, Any]) -> Any:
        name = str(spec.get("FunctionName", ""))
        for esm in self._event_source_mappings.values():
            same_function = esm.function_arn == name or esm.function_arn.split(":")[6:7] == [name]
            if esm.event_source_arn == spec.get("EventSourceArn") and same_function:
                raise Conflict("ResourceConflictException",
                               f"An event source mapping with SQS arn (\" {esm.event_source_arn} \") and function "
                               f"(\" {name} \") already exists. Please update or delete the existing mapping "
                               f"with UUID {esm.uuid}")
        return original(self, spec)

    LambdaBackend.create_event_source_mapping = create  # type: ignore[method-assign]
