"""AWS Lambda: layers, functions (code, configuration, Layers), Function URLs, permissions, event sources.

Thin wrappers over the Lambda API. Everything that waits goes through
``aws/waiters.py``; the one eventual-consistency case Lambda has on create (a
role IAM has not finished propagating, or its new permission to make a VPC function's network interfaces)
is retried by ``aws/retry.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.retry import ROLE_ATTEMPTS, create_or_adopt, retry_new_role
from tscloud_py.aws.session import call, ignoring, paginate
from tscloud_py.aws.waiters import Clock, Poll, ProgressCallback, WaitPolicy, wait_for
from tscloud_py.errors import AwsError, UsageError

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory

MAX_LAYERS = 5
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # zipped bytes accepted inline by CreateFunction / PublishLayerVersion
FALLBACK_NODE_RUNTIME = "nodejs22.x"
_NODE_RUNTIME = re.compile(r"^nodejs(\d+)\.x$")


@dataclass(frozen=True)
class FunctionVpcConfig:
    """The subnets and security groups of a function attached to a VPC (none: not attached)."""

    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()

    def api(self) -> dict[str, list[str]]:
        return {"SubnetIds": sorted(self.subnets), "SecurityGroupIds": sorted(self.security_groups)}

    @classmethod
    def of(cls, configuration: dict[str, Any]) -> FunctionVpcConfig:
        """What GetFunction's Configuration says (absent, or empty lists, when not attached)."""
        vpc = configuration.get("VpcConfig") or {}
        return cls(tuple(sorted(vpc.get("SubnetIds") or [])), tuple(sorted(vpc.get("SecurityGroupIds") or [])))


def newest_node_runtime() -> str:
    """The newest ``nodejsNN.x`` runtime in botocore's Lambda model."""
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model("lambda")
        values = list(getattr(model.shape_for("Runtime"), "enum", []))
    except Exception:  # a botocore without the shape: fall back, never fail a deploy on this
        return FALLBACK_NODE_RUNTIME
    versions = [(int(m.group(1)), v) for v in values if (m := _NODE_RUNTIME.match(v))]
    return max(versions)[1] if versions else FALLBACK_NODE_RUNTIME


def check_layers(layers: list[str]) -> list[str]:
    """Lambda takes at most 5 layers per function."""
    if len(layers) > MAX_LAYERS:
        raise UsageError(f"at most {MAX_LAYERS} layers per function, got {len(layers)}",
                         "merge layers, or drop one")
    return layers


def layer_name_of(arn: str) -> str:
    """``arn:aws:lambda:r:a:layer:NAME:7`` -> ``arn:aws:lambda:r:a:layer:NAME`` (the layer, any version)."""
    return arn.rsplit(":", 1)[0] if re.search(r":layer:[^:]+:\d+$", arn) else arn


class Lambda:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("lambda", region)
        # Creates without a client token go out once: after a lost answer ``create_or_adopt`` looks first.
        self.once = factory.client("lambda", region, once=True)

    # ---- layers -------------------------------------------------------------------------------

    def publish_layer_version(self, name: str, zip_bytes: bytes | None = None, *, s3: tuple[str, str] | None = None,
                              runtimes: list[str] | None = None, architectures: list[str] | None = None,
                              description: str = "") -> dict[str, Any]:
        content: dict[str, Any] = {"ZipFile": zip_bytes} if s3 is None else {"S3Bucket": s3[0], "S3Key": s3[1]}
        kwargs: dict[str, Any] = {"LayerName": name, "Content": content, "Description": description}
        if runtimes:
            kwargs["CompatibleRuntimes"] = runtimes
        if architectures:
            kwargs["CompatibleArchitectures"] = architectures
        return dict(call(self.c.publish_layer_version, "lambda:PublishLayerVersion", **kwargs))

    def layer_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of layer ``name``, newest first (empty when the layer does not exist)."""
        with ignoring("ResourceNotFoundException"):
            items = list(paginate(self.c, "list_layer_versions", "LayerVersions", LayerName=name))
            return sorted((dict(i) for i in items), key=lambda v: int(v["Version"]), reverse=True)
        return []

    def get_layer_version(self, name: str, version: int) -> dict[str, Any] | None:
        with ignoring("ResourceNotFoundException"):
            return dict(call(self.c.get_layer_version, "lambda:GetLayerVersion", LayerName=name,
                             VersionNumber=version))
        return None

    def latest_layer_version(self, name: str) -> dict[str, Any] | None:
        """The newest version of ``name`` with its ``Content.CodeSha256``, or None."""
        versions = self.layer_versions(name)
        return self.get_layer_version(name, int(versions[0]["Version"])) if versions else None

    def publish_layer_if_changed(self, name: str, zip_bytes: bytes, *, runtimes: list[str] | None = None,
                                 architectures: list[str] | None = None, description: str = "",
                                 s3: tuple[str, str] | None = None) -> tuple[dict[str, Any], bool]:
        """Publish unless the newest version already has our ``CodeSha256``; returns (version, published)."""
        ours = base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")
        latest = self.latest_layer_version(name)
        if latest is not None and latest.get("Content", {}).get("CodeSha256") == ours:
            return latest, False
        if s3 is None and len(zip_bytes) > DIRECT_UPLOAD_LIMIT:
            raise UsageError(f"layer zip is {len(zip_bytes) // (1024 * 1024)} MB; Lambda takes at most 50 MB inline",
                             "pass --s3-bucket to upload it through S3")
        return self.publish_layer_version(name, None if s3 else zip_bytes, s3=s3, runtimes=runtimes,
                                          architectures=architectures, description=description), True

    def delete_layer_version(self, name: str, version: int) -> None:
        call(self.c.delete_layer_version, "lambda:DeleteLayerVersion", LayerName=name, VersionNumber=version)

    # ---- functions ----------------------------------------------------------------------------

    def get_function(self, name: str) -> dict[str, Any] | None:
        """``GetFunction``: ``Configuration``, ``Code`` and ``Tags``; None when absent."""
        with ignoring("ResourceNotFoundException"):
            return dict(call(self.c.get_function, "lambda:GetFunction", FunctionName=name))
        return None

    def create_function(self, name: str, *, role_arn: str, runtime: str, handler: str, zip_bytes: bytes | None,
                        memory: int, timeout: int, architecture: str, environment: dict[str, str],
                        layers: list[str], tags: dict[str, str], description: str = "",
                        log_group: str | None = None, attempts: int = ROLE_ATTEMPTS, s3: tuple[str, str] | None = None,
                        vpc: FunctionVpcConfig | None = None,
                        sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
        """``zip_bytes`` inline, or ``s3`` (bucket, key) for a zip above the 50 MB inline limit; ``vpc`` attaches
        the function to those subnets and security groups."""
        code: dict[str, Any] = {"ZipFile": zip_bytes} if s3 is None else {"S3Bucket": s3[0], "S3Key": s3[1]}
        kwargs: dict[str, Any] = {
            "FunctionName": name, "Role": role_arn, "Runtime": runtime, "Handler": handler,
            "Code": code, "MemorySize": memory, "Timeout": timeout,
            "Architectures": [architecture], "Environment": {"Variables": environment},
            "Layers": check_layers(layers), "Tags": tags, "Description": description, "Publish": False,
        }
        if log_group:
            kwargs["LoggingConfig"] = {"LogGroup": log_group, "LogFormat": "Text"}
        if vpc is not None and vpc.subnets:
            kwargs["VpcConfig"] = vpc.api()

        def create() -> dict[str, Any]:
            return dict(call(self.once.create_function, "lambda:CreateFunction", **kwargs))

        def find() -> dict[str, Any] | None:
            found = self.get_function(name)
            return dict(found["Configuration"]) if found else None

        return retry_new_role(lambda: create_or_adopt(create, find, "lambda:CreateFunction",
                                                      exists=("ResourceConflictException",), sleep=sleep),
                              attempts=attempts, sleep=sleep)()

    def update_function_code(self, name: str, zip_bytes: bytes | None, architecture: str | None = None, *,
                             s3: tuple[str, str] | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"FunctionName": name, "Publish": False}
        if s3 is None:
            kwargs["ZipFile"] = zip_bytes
        else:
            kwargs.update(S3Bucket=s3[0], S3Key=s3[1])
        if architecture:
            kwargs["Architectures"] = [architecture]
        return dict(call(self.c.update_function_code, "lambda:UpdateFunctionCode", **kwargs))

    def update_function_configuration(self, name: str, *, role_arn: str | None = None, runtime: str | None = None,
                                      handler: str | None = None, memory: int | None = None,
                                      timeout: int | None = None, environment: dict[str, str] | None = None,
                                      layers: list[str] | None = None, log_group: str | None = None,
                                      vpc: FunctionVpcConfig | None = None, attempts: int = ROLE_ATTEMPTS,
                                      sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
        """Only what is given changes; ``vpc`` with no subnets detaches the function from its VPC. Retried
        while a role's new permissions propagate (Lambda checks the role can make network interfaces)."""
        kwargs: dict[str, Any] = {"FunctionName": name}
        for key, value in (("Role", role_arn), ("Runtime", runtime), ("Handler", handler),
                           ("MemorySize", memory), ("Timeout", timeout)):
            if value is not None:
                kwargs[key] = value
        if environment is not None:
            kwargs["Environment"] = {"Variables": environment}
        if layers is not None:
            kwargs["Layers"] = check_layers(layers)
        if log_group is not None:
            kwargs["LoggingConfig"] = {"LogGroup": log_group, "LogFormat": "Text"}
        if vpc is not None:
            kwargs["VpcConfig"] = vpc.api()
        return retry_new_role(lambda: dict(call(self.c.update_function_configuration,
                                                "lambda:UpdateFunctionConfiguration", **kwargs)),
                              attempts=attempts, sleep=sleep)()

    def set_layers(self, name: str, layers: list[str]) -> dict[str, Any]:
        return self.update_function_configuration(name, layers=layers)

    def wait_ready(self, name: str, *, clock: Clock | None = None, progress: ProgressCallback | None = None,
                   policy: WaitPolicy | None = None) -> dict[str, Any]:
        """Until the function is Active and its last update Successful; a Failed update is an error."""

        def check() -> Poll[dict[str, Any]]:
            fn = self.get_function(name)
            if fn is None:
                return Poll.pending("absent")
            conf = dict(fn["Configuration"])
            state = conf.get("State") or "Active"
            update = conf.get("LastUpdateStatus") or "Successful"
            if state == "Failed" or update == "Failed":
                reason = conf.get("StateReason") or conf.get("LastUpdateStatusReason") or "unknown reason"
                raise AwsError("lambda:GetFunction", str(conf.get("LastUpdateStatusReasonCode") or "Failed"),
                               f"function {name} failed: {reason}")
            if state == "Active" and update == "Successful":
                return Poll.finished(conf, "active")
            return Poll.pending(f"{state.lower()}/{str(update).lower()}")

        return wait_for(check, what=f"function {name} ready", clock=clock, progress=progress,
                        policy=policy or WaitPolicy(timeout=600, first_interval=1, max_interval=5))

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        call(self.c.tag_resource, "lambda:TagResource", Resource=arn, Tags=tags)

    def delete_function(self, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.delete_function, "lambda:DeleteFunction", FunctionName=name)

    # ---- function URLs --------------------------------------------------------------------------

    def get_function_url_config(self, name: str) -> dict[str, Any] | None:
        with ignoring("ResourceNotFoundException"):
            return dict(call(self.c.get_function_url_config, "lambda:GetFunctionUrlConfig", FunctionName=name))
        return None

    def create_function_url_config(self, name: str, *, auth_type: str, invoke_mode: str,
                                   cors: dict[str, Any] | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"FunctionName": name, "AuthType": auth_type, "InvokeMode": invoke_mode}
        if cors:
            kwargs["Cors"] = cors
        return create_or_adopt(
            lambda: dict(call(self.once.create_function_url_config, "lambda:CreateFunctionUrlConfig", **kwargs)),
            lambda: self.get_function_url_config(name), "lambda:CreateFunctionUrlConfig",
            exists=("ResourceConflictException",))

    def update_function_url_config(self, name: str, *, auth_type: str, invoke_mode: str) -> dict[str, Any]:
        return dict(call(self.c.update_function_url_config, "lambda:UpdateFunctionUrlConfig", FunctionName=name,
                         AuthType=auth_type, InvokeMode=invoke_mode))

    def delete_function_url_config(self, name: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.delete_function_url_config, "lambda:DeleteFunctionUrlConfig", FunctionName=name)

    # ---- resource policy ----------------------------------------------------------------------

    def policy_statements(self, name: str) -> list[dict[str, Any]]:
        """The function's resource-policy statements (empty when it has none)."""
        with ignoring("ResourceNotFoundException"):
            doc = call(self.c.get_policy, "lambda:GetPolicy", FunctionName=name)["Policy"]
            statements = json.loads(doc).get("Statement", [])
            return [dict(s) for s in (statements if isinstance(statements, list) else [statements])]
        return []

    def add_permission(self, name: str, *, statement_id: str, action: str, principal: str,
                       source_arn: str | None = None, source_account: str | None = None,
                       function_url_auth_type: str | None = None, invoked_via_function_url: bool = False) -> None:
        kwargs: dict[str, Any] = {"FunctionName": name, "StatementId": statement_id, "Action": action,
                                  "Principal": principal}
        if source_arn:
            kwargs["SourceArn"] = source_arn
        if source_account:
            kwargs["SourceAccount"] = source_account
        if function_url_auth_type:
            kwargs["FunctionUrlAuthType"] = function_url_auth_type
        if invoked_via_function_url:
            kwargs["InvokedViaFunctionUrl"] = True
        def find() -> bool | None:
            return True if any(st.get("Sid") == statement_id for st in self.policy_statements(name)) else None

        create_or_adopt(lambda: bool(call(self.once.add_permission, "lambda:AddPermission", **kwargs)), find,
                        "lambda:AddPermission", exists=("ResourceConflictException",))

    def remove_permission(self, name: str, statement_id: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.remove_permission, "lambda:RemovePermission", FunctionName=name, StatementId=statement_id)

    # ---- event source mappings ----------------------------------------------------------------

    def event_source_mappings(self, name: str) -> list[dict[str, Any]]:
        return [dict(m) for m in paginate(self.c, "list_event_source_mappings", "EventSourceMappings",
                                          FunctionName=name)]

    def create_event_source_mapping(self, name: str, source_arn: str, *, batch_size: int, window_seconds: int,
                                    report_batch_item_failures: bool = True, enabled: bool = True) -> dict[str, Any]:
        """One mapping per (function, source): AWS refuses a second with ResourceConflictException, and
        after a lost answer the one AWS made is looked up by the pair and adopted."""
        def create() -> dict[str, Any]:
            return dict(call(self.once.create_event_source_mapping, "lambda:CreateEventSourceMapping",
                             FunctionName=name, EventSourceArn=source_arn, BatchSize=batch_size,
                             MaximumBatchingWindowInSeconds=window_seconds, Enabled=enabled,
                             FunctionResponseTypes=["ReportBatchItemFailures"] if report_batch_item_failures else []))

        def find() -> dict[str, Any] | None:
            return next((m for m in self.event_source_mappings(name) if m.get("EventSourceArn") == source_arn), None)

        return create_or_adopt(create, find, "lambda:CreateEventSourceMapping", exists=("ResourceConflictException",))

    def update_event_source_mapping(self, uuid: str, *, batch_size: int, window_seconds: int,
                                    report_batch_item_failures: bool = True, enabled: bool = True) -> dict[str, Any]:
        return dict(call(self.c.update_event_source_mapping, "lambda:UpdateEventSourceMapping", UUID=uuid,
                         BatchSize=batch_size, MaximumBatchingWindowInSeconds=window_seconds, Enabled=enabled,
                         FunctionResponseTypes=["ReportBatchItemFailures"] if report_batch_item_failures else []))

    def delete_event_source_mapping(self, uuid: str) -> None:
        with ignoring("ResourceNotFoundException"):
            call(self.c.delete_event_source_mapping, "lambda:DeleteEventSourceMapping", UUID=uuid)
