"""ssr-app steps for the server: log group, role, function, Function URL, CloudFront's invoke permission,
and the CloudFront Function that forwards the viewer host as ``x-forwarded-host``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from tscloud_py.aws.iam import Iam
from tscloud_py.aws.lambda_ import DIRECT_UPLOAD_LIMIT, FunctionVpcConfig, Lambda
from tscloud_py.aws.s3 import S3
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import UsageError
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.secrets import FunctionSecrets

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
ROLE_POLICY = "tscloud-server"
URL_SID = "tscloud-cloudfront-url"
INVOKE_SID = "tscloud-cloudfront-invoke"
QUEUE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
# What Lambda does with a VPC function's role: make, describe and delete the function's network interfaces
# (AWS's AWSLambdaVPCAccessExecutionRole). Lambda tries CreateNetworkInterface with the role, unscoped, before
# it accepts the function, so these take no resource narrower than "*".
VPC_ENI_ACTIONS = ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                   "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses"]

# CloudFront strips Host for the Function URL origin (AllViewerExceptHostHeader); keep the viewer's host.
FORWARDED_HOST_CODE = b"""function handler(event) {
  var request = event.request;
  if (request.headers.host) {
    request.headers['x-forwarded-host'] = { value: request.headers.host.value };
  }
  return request;
}
"""


class ServerRoleStep(Step):
    """The server's role: write its own log streams, plus exactly what [ssr] permissions grant."""

    kind = "IAM role"
    provides = frozenset({"role_arn", "role_name"})

    def __init__(self, step_id: str, iam: Iam, name: str, permissions: list[tuple[list[str], list[str]]],
                 names: Names, *, needs: Sequence[str], log_group_arn: Ref[str], queue_arn: Ref[str] | None = None,
                 legacy_name: str | None = None, secrets: FunctionSecrets | None = None,
                 description: str = "tscloud ssr-app server", vpc: bool = False) -> None:
        self.id, self.iam, self.name, self.permissions = step_id, iam, name, permissions
        self.description = description
        # The role's name before it carried the region: adopted (IAM cannot rename a role) when its
        # policy lets it write this region's log group, so another region's role is never taken.
        self.legacy_name = legacy_name
        self.names = names
        self.needs = tuple(needs)
        self.log_group_arn = log_group_arn
        self.queue_arn = queue_arn  # a worker's queue, which it may receive from and delete in
        self.secrets = secrets  # what its function reads at init: exactly those it may read
        self.vpc = vpc  # its function runs in a VPC: Lambda manages the function's network interfaces as the role

    def policy(self, ctx: StepContext) -> dict[str, Any]:
        log_arn = ctx.get(self.log_group_arn)
        statements: list[dict[str, Any]] = [{"Sid": "WriteOwnLogs", "Effect": "Allow",
                                             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                             "Resource": [f"{log_arn}:*"]}]
        granted = [(list(QUEUE_ACTIONS), [ctx.get(self.queue_arn)])] if self.queue_arn else []
        for i, (actions, resources) in enumerate([*granted, *self.permissions]):
            statements.append({"Sid": f"Config{i}", "Effect": "Allow", "Action": sorted(actions),
                               "Resource": sorted(resources)})
        if self.secrets is not None:
            statements += self.secrets.statements()
        if self.vpc:
            statements.append({"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": VPC_ENI_ACTIONS,
                               "Resource": ["*"]})
        return {"Version": "2012-10-17", "Statement": statements}

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        role = self.iam.role(self.name)
        if role is not None:
            return {"name": self.name, "role": role, "policies": self.iam.inline_policies(self.name)}
        if self.legacy_name is None or (legacy := self.iam.role(self.legacy_name)) is None:
            return None
        policies = self.iam.inline_policies(self.legacy_name)
        logs = next((st.get("Resource") for st in (policies.get(ROLE_POLICY) or {}).get("Statement", [])
                     if st.get("Sid") == "WriteOwnLogs"), None)
        own = [f"{ctx.get(self.log_group_arn)}:*"]
        return {"name": self.legacy_name, "role": legacy, "policies": policies} if logs == own else None

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            granted = "" if not self.permissions else f" + {len(self.permissions)} configured grants"
            eni = " + its VPC network interfaces" if self.vpc else ""
            return [Change(f"create role {self.name} (its logs{' + its queue' if self.queue_arn else ''}{granted}{eni})")]
        changes = []
        if canonical(observed["role"]["AssumeRolePolicyDocument"]) != canonical(LAMBDA_TRUST):
            changes.append(Change("trust", "differs", "lambda.amazonaws.com"))
        current = observed["policies"].get(ROLE_POLICY)
        if current is None or canonical(current) != canonical(self.policy(ctx)):
            changes.append(Change(f"policy {ROLE_POLICY}", "differs" if current else None, "logs + config grants"))
        extra = sorted(set(observed["policies"]) - {ROLE_POLICY})
        if extra:
            changes.append(Change("foreign inline policies", extra, None))
        return changes

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        name = observed["name"] if observed is not None else self.name
        if observed is None:
            arn = self.iam.create_role(name, LAMBDA_TRUST, self.names.tags(self.id), self.description)
        else:
            arn = observed["role"]["Arn"]
            if canonical(observed["role"]["AssumeRolePolicyDocument"]) != canonical(LAMBDA_TRUST):
                self.iam.update_trust(name, LAMBDA_TRUST)
            for policy in set(observed["policies"]) - {ROLE_POLICY}:
                self.iam.delete_policy(name, policy)
        self.iam.put_policy(name, ROLE_POLICY, self.policy(ctx))
        return {"role_arn": arn, "role_name": name}

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"role_arn": observed["role"]["Arn"], "role_name": observed["name"]}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.iam.delete_role(observed["name"])


@dataclass(frozen=True)
class CodeStaging:
    """Where a code zip above Lambda's 50 MB inline limit is put: a bucket, under ``_tscloud/`` (the asset
    sync never touches that prefix, and no CloudFront behavior serves it)."""

    s3: S3
    bucket: Ref[str]
    key_prefix: str = "_tscloud/code/server/"

    def put(self, ctx: StepContext, data: bytes) -> tuple[str, str]:
        bucket = ctx.get(self.bucket)
        key = f"{self.key_prefix}{hashlib.sha256(data).hexdigest()}.zip"
        self.s3.put_object(bucket, key, data, content_type="application/zip", cache_control="no-store")
        return bucket, key


@dataclass(frozen=True)
class FunctionNetwork:
    """Where a function attached to a VPC runs: subnets with a way out (Lambda gives its interfaces no public
    IP), and its security group."""

    subnets: Ref[list[str]]
    security_group: Ref[str]

    def config(self, ctx: StepContext) -> FunctionVpcConfig:
        return FunctionVpcConfig(tuple(ctx.get(self.subnets)), (ctx.get(self.security_group),))


class FunctionStep(Step):
    """The server function; its code is the deterministic zip, so an unchanged build uploads nothing."""

    kind = "Lambda function"
    provides = frozenset({"function_name", "function_arn"})

    def __init__(self, step_id: str, lam: Lambda, name: str, code: Callable[[], tuple[bytes, str]], names: Names, *,
                 runtime: str, handler: str, memory: int, timeout: int, architecture: str,
                 environment: dict[str, str], layers: list[str], role_arn: Ref[str], needs: Sequence[str],
                 description: str = "server", staging: CodeStaging | None = None,
                 secrets: FunctionSecrets | None = None, layer: Ref[str] | None = None,
                 network: FunctionNetwork | None = None) -> None:
        self.id, self.lam, self.name, self._code = step_id, lam, name, code
        self.network = network
        self.layer = layer  # a layer a step of the graph publishes, attached after ``layers``
        self.runtime, self.handler, self.memory, self.timeout = runtime, handler, memory, timeout
        self.architecture, self.environment, self.layers = architecture, environment, layers
        self.names = names
        self.role_arn = role_arn
        self.needs = tuple(needs)
        self.description = description
        self.staging = staging
        # the secrets the function reads at init: in its environment only where they live (and their
        # versions), never a value; the code (``code``) carries the resolver
        self.secrets = secrets

    def _s3(self, ctx: StepContext, data: bytes) -> tuple[str, str] | None:
        if len(data) <= DIRECT_UPLOAD_LIMIT:
            return None
        if self.staging is None:
            raise UsageError(f"{self.name}: the code zip is {len(data) // (1024 * 1024)} MB; Lambda takes at most "
                             "50 MB inline", "make the bundle smaller, or move dependencies into a layer")
        ctx.log(f"staging {len(data) // (1024 * 1024)} MB of code in S3")
        return self.staging.put(ctx, data)

    def wanted(self, ctx: StepContext) -> dict[str, Any]:
        return {"Runtime": self.runtime, "Handler": self.handler, "MemorySize": self.memory,
                "Timeout": self.timeout, "Architecture": self.architecture, "Environment": self.wanted_environment(),
                "Layers": self.wanted_layers(ctx), "Role": ctx.get(self.role_arn), "VpcConfig": self.wanted_vpc(ctx),
                "CodeSha256": self._code()[1]}

    def wanted_vpc(self, ctx: StepContext) -> FunctionVpcConfig:
        return self.network.config(ctx) if self.network is not None else FunctionVpcConfig()

    def wanted_layers(self, ctx: StepContext) -> list[str]:
        return [*self.layers, *([ctx.get(self.layer)] if self.layer is not None else [])]

    def wanted_environment(self) -> dict[str, str]:
        return self.environment if self.secrets is None else self.secrets.environment(self.environment)

    @staticmethod
    def observed_view(conf: dict[str, Any]) -> dict[str, Any]:
        return {"Runtime": conf.get("Runtime"), "Handler": conf.get("Handler"), "MemorySize": conf.get("MemorySize"),
                "Timeout": conf.get("Timeout"), "Architecture": (conf.get("Architectures") or ["x86_64"])[0],
                "Environment": dict((conf.get("Environment") or {}).get("Variables") or {}),
                "Layers": [str(layer["Arn"]) for layer in conf.get("Layers") or []], "Role": conf.get("Role"),
                "VpcConfig": FunctionVpcConfig.of(conf), "CodeSha256": conf.get("CodeSha256")}

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        fn = self.lam.get_function(self.name)
        return dict(fn["Configuration"]) if fn else None

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            where = ", in the VPC's private subnets" if self.network is not None else ""
            return [Change(f"create function {self.name} ({self.runtime}, {self.architecture}, {self.memory} MB, "
                           f"{self.timeout}s, handler {self.handler}{where})")]
        wanted = self.wanted(ctx)
        have = self.observed_view(observed)
        return [Change(k if k != "CodeSha256" else "code", _shown(have[k]), _shown(v))
                for k, v in wanted.items() if have[k] != v]

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        wanted = self.wanted(ctx)
        data, _ = self._code()
        if observed is None:
            s3 = self._s3(ctx, data)
            self.lam.create_function(
                self.name, role_arn=wanted["Role"], runtime=self.runtime, handler=self.handler,
                zip_bytes=None if s3 else data, s3=s3,
                memory=self.memory, timeout=self.timeout, architecture=self.architecture,
                environment=wanted["Environment"], layers=wanted["Layers"], tags=self.names.tags(self.id),
                description=self.names.description(self.description), vpc=wanted["VpcConfig"])
        else:
            if observed.get("LastUpdateStatus") == "InProgress" or observed.get("State") == "Pending":
                self.lam.wait_ready(self.name, clock=ctx.clock, progress=ctx.progress())  # a run killed mid-update
            have = self.observed_view(observed)
            if have["CodeSha256"] != wanted["CodeSha256"] or have["Architecture"] != self.architecture:
                ctx.log(f"uploading code ({len(data) // 1024} KiB)")
                s3 = self._s3(ctx, data)
                self.lam.update_function_code(self.name, None if s3 else data, self.architecture, s3=s3)
                self.lam.wait_ready(self.name, clock=ctx.clock, progress=ctx.progress())
            config_keys = ("Runtime", "Handler", "MemorySize", "Timeout", "Environment", "Layers", "Role")
            vpc_changed = have["VpcConfig"] != wanted["VpcConfig"]
            if vpc_changed or any(have[k] != wanted[k] for k in config_keys):
                self.lam.update_function_configuration(
                    self.name, role_arn=wanted["Role"], runtime=self.runtime, handler=self.handler,
                    memory=self.memory, timeout=self.timeout, environment=wanted["Environment"],
                    layers=wanted["Layers"], vpc=wanted["VpcConfig"] if vpc_changed else None)
        conf = self.lam.wait_ready(self.name, clock=ctx.clock, progress=ctx.progress())
        return self.outputs(ctx, conf)

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"function_name": self.name, "function_arn": observed["FunctionArn"]}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.lam.delete_function(self.name)


def _shown(value: Any) -> Any:
    """A function setting as the plan prints it."""
    return value.api() if isinstance(value, FunctionVpcConfig) else value


class FunctionUrlStep(Step):
    """The Function URL: AWS_IAM (only CloudFront, signing through OAC), streamed when the build streams."""

    kind = "Lambda Function URL"
    provides = frozenset({"function_url", "url_domain", "invoke_mode"})

    def __init__(self, step_id: str, lam: Lambda, function_name: str, *, streaming: bool,
                 needs: Sequence[str] = ()) -> None:
        self.id, self.lam, self.function_name = step_id, lam, function_name
        self.invoke_mode = "RESPONSE_STREAM" if streaming else "BUFFERED"
        self.needs = tuple(needs)

    def wanted(self, ctx: StepContext) -> Any:
        return {"AuthType": "AWS_IAM", "InvokeMode": self.invoke_mode}

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        return self.lam.get_function_url_config(self.function_name)

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"create Function URL (AWS_IAM, {self.invoke_mode})")]
        have = {"AuthType": observed.get("AuthType"), "InvokeMode": observed.get("InvokeMode") or "BUFFERED"}
        return [Change(k, have[k], v) for k, v in self.wanted(ctx).items() if have[k] != v]

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        if observed is None:
            url = self.lam.create_function_url_config(self.function_name, auth_type="AWS_IAM",
                                                      invoke_mode=self.invoke_mode)
        else:
            url = self.lam.update_function_url_config(self.function_name, auth_type="AWS_IAM",
                                                      invoke_mode=self.invoke_mode)
        return self.outputs(ctx, url)

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        url = str(observed["FunctionUrl"])
        return {"function_url": url, "url_domain": urlparse(url).hostname or url, "invoke_mode": self.invoke_mode}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.lam.delete_function_url_config(self.function_name)


class UrlPermissionStep(Step):
    """Only this distribution may call the Function URL (InvokeFunctionUrl + InvokeFunction via the URL)."""

    kind = "Lambda permission"

    def __init__(self, step_id: str, lam: Lambda, function_name: str, *, needs: Sequence[str],
                 distribution_arn: Ref[str]) -> None:
        self.id, self.lam, self.function_name = step_id, lam, function_name
        self.needs = tuple(needs)
        self.distribution_arn = distribution_arn

    def wanted(self, ctx: StepContext) -> dict[str, str]:
        source = ctx.get(self.distribution_arn)
        return {URL_SID: source, INVOKE_SID: source}

    def read(self, ctx: StepContext) -> dict[str, str] | None:
        ours = {}
        for statement in self.lam.policy_statements(self.function_name):
            if statement.get("Sid") in (URL_SID, INVOKE_SID):
                condition = statement.get("Condition", {})
                source = (condition.get("ArnLike") or condition.get("ArnEquals") or {}).get("AWS:SourceArn")
                ours[str(statement["Sid"])] = str(source)
        return ours or None

    def diff(self, ctx: StepContext, observed: dict[str, str] | None) -> list[Change]:
        have = observed or {}
        return [Change(f"permission {sid}", have.get(sid), source)
                for sid, source in self.wanted(ctx).items() if have.get(sid) != source]

    def apply(self, ctx: StepContext, observed: dict[str, str] | None) -> Outputs:
        have = observed or {}
        for sid, source in self.wanted(ctx).items():
            if have.get(sid) == source:
                continue
            if sid in have:
                self.lam.remove_permission(self.function_name, sid)
            if sid == URL_SID:
                self.lam.add_permission(self.function_name, statement_id=sid, action="lambda:InvokeFunctionUrl",
                                        principal="cloudfront.amazonaws.com", source_arn=source,
                                        function_url_auth_type="AWS_IAM")
            else:
                self.lam.add_permission(self.function_name, statement_id=sid, action="lambda:InvokeFunction",
                                        principal="cloudfront.amazonaws.com", source_arn=source,
                                        invoked_via_function_url=True)
        return {}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for sid in (URL_SID, INVOKE_SID):
            self.lam.remove_permission(self.function_name, sid)
