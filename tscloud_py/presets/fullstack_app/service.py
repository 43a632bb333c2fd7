"""Compute tier, part 1: IAM roles (least privilege), task definitions, the ECS cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.ecs import AppContainer, FargateTaskDefinition, HealthCheck
from tscloud_py.concurrency import each, together
from tscloud_py.engine.step import Change, Outputs, StepContext
from tscloud_py.errors import ConfigError, TscloudError
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.fullstack_app.common import Env, FsStep, compare
from tscloud_py.presets.naming import region_code

ECS_TASKS = "ecs-tasks.amazonaws.com"


def resolve_secret_refs(env: Env) -> dict[str, dict[str, str]]:
    """[api.secrets] -> {VAR: {"value_from", "resource", "kind"}}; names are resolved to ARNs."""
    api = env.config.api
    assert api is not None
    out: dict[str, dict[str, str]] = {}
    for var, ref in sorted(api.secrets.items()):
        if ref.startswith("ssm:") or ref.startswith("arn:aws:ssm:"):
            arn = ref if ref.startswith("arn:") else env.arn("ssm", "parameter/" + ref[4:].lstrip("/"))
            out[var] = {"value_from": arn, "resource": arn, "kind": "ssm"}
            continue
        if ref.startswith("arn:aws:secretsmanager:"):
            base = ":".join(ref.split(":")[:7])
            out[var] = {"value_from": ref, "resource": base, "kind": "secretsmanager"}
            continue
        found = env.secrets.describe(ref)
        if found is None:
            raise ConfigError(env.config.path, f"api.secrets.{var}",
                              f"no Secrets Manager secret named {ref!r} in {env.region}",
                              "create it first (aws secretsmanager create-secret), or give its ARN")
        out[var] = {"value_from": str(found["ARN"]), "resource": str(found["ARN"]), "kind": "secretsmanager"}
    return out


def _trust(service: str, account: str | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account:
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": "2012-10-17", "Statement": [stmt]}


class RolesStep(FsStep):
    """Execution role: read exactly these secrets, pull exactly this repository, write this log group.
    Task role: exactly this queue and this SES identity. Scheduler role: run exactly this task family."""

    kind = "IAM roles"

    # Set by read() when this region's roles predate region-named roles: IAM cannot rename a role.
    _legacy = False

    def role_names(self, *, legacy: bool | None = None) -> dict[str, str]:
        """IAM is global: the names carry the region's code, unless these are the roles made before that."""
        legacy = self._legacy if legacy is None else legacy
        code = "" if legacy else f"{region_code(self.env.region)}-"
        names = {"execution": self.env.name(f"{code}exec", 64), "task": self.env.name(f"{code}task", 64)}
        if self.env.config.schedules:
            names["scheduler"] = self.env.name(f"{code}scheduler", 64)
        return names

    def _legacy_roles_are_ours(self, ctx: StepContext) -> bool:
        """Pre-region roles belong to this region when the execution role writes this region's log group."""
        name = self.role_names(legacy=True)["execution"]
        if self.env.iam.role(name) is None:
            return False
        policy = self.env.iam.inline_policies(name).get(name) or {}
        logs = next((st.get("Resource") for st in policy.get("Statement", []) if st.get("Sid") == "Logs"), None)
        return bool(logs == [f"{ctx.output('logs', 'log_group_arn')}:log-stream:*"])

    def documents(self, ctx: StepContext) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
        """role -> (trust policy, inline policy or None)."""
        cfg = self.env.config
        refs = resolve_secret_refs(self.env)
        secret_arns = sorted({r["resource"] for r in refs.values() if r["kind"] == "secretsmanager"}
                             | ({ctx.output("database", "secret_arn")} if cfg.database else set())
                             | ({ctx.output("cache", "auth_secret_arn")} if cfg.cache else set()))
        ssm_arns = sorted({r["resource"] for r in refs.values() if r["kind"] == "ssm"})
        log_arn = ctx.output("logs", "log_group_arn")
        execution: list[dict[str, Any]] = [
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [f"{log_arn}:log-stream:*"]},
        ]
        repo_arn = ctx.output("image", "repository_arn")
        if repo_arn:
            execution += [
                {"Sid": "PullImage", "Effect": "Allow", "Resource": [repo_arn],
                 "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]},
                # GetAuthorizationToken has no resource-level permissions: AWS requires "*" here.
                {"Sid": "RegistryLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
            ]
        if secret_arns:
            execution.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                              "Resource": secret_arns})
        if ssm_arns:
            execution.append({"Sid": "ReadParameters", "Effect": "Allow", "Action": ["ssm:GetParameters"],
                              "Resource": ssm_arns})
        task: list[dict[str, Any]] = []
        if cfg.queue is not None:
            task.append({"Sid": "Queue", "Effect": "Allow", "Resource": [ctx.output("queue", "queue_arn")],
                         "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                    "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:SendMessage"]})
        if cfg.mail is not None:
            task.append({"Sid": "Mail", "Effect": "Allow", "Resource": [ctx.output("mail", "identity_arn")],
                         "Action": ["ses:SendEmail", "ses:SendRawEmail"]})
        docs: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
            "execution": (_trust(ECS_TASKS), {"Version": "2012-10-17", "Statement": execution}),
            "task": (_trust(ECS_TASKS), {"Version": "2012-10-17", "Statement": task} if task else None),
        }
        if "scheduler" in self.role_names():
            account = self.env.account()
            family = self.env.arn("ecs", f"task-definition/{self.env.name('api')}")
            families = [family, f"{family}:*"]
            role_arns = [f"arn:aws:iam::{account}:role/{self.role_names()[r]}" for r in ("execution", "task")]
            cluster_arn = self.env.arn("ecs", f"cluster/{self.env.prefix}")
            docs["scheduler"] = (_trust("scheduler.amazonaws.com", account), {"Version": "2012-10-17", "Statement": [
                {"Sid": "RunTask", "Effect": "Allow", "Action": ["ecs:RunTask"], "Resource": families,
                 "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
                {"Sid": "PassRoles", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": role_arns,
                 "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS}}},
            ]})
        return docs

    def read(self, ctx: StepContext) -> Any | None:
        self._legacy = False
        found = self._read_roles()
        if not found and self._legacy_roles_are_ours(ctx):
            self._legacy = True
            found = self._read_roles()
        return found or None

    def _read_roles(self) -> dict[str, Any]:
        iam = self.env.iam
        names = self.role_names()
        read = each(names.values(), lambda name: together(lambda: iam.role(name), lambda: iam.inline_policies(name)))
        return {key: {"role": role, "policies": policies}
                for key, (role, policies) in zip(names, read, strict=True) if role is not None}

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        observed = observed or {}
        changes: list[Change] = []
        names = self.role_names()
        for key, (trust, policy) in self.documents(ctx).items():
            if key not in observed:
                changes.append(Change(f"{key} role", None, names[key]))
                continue
            compare(changes, f"{key} role trust", observed[key]["role"]["AssumeRolePolicyDocument"], trust)
            have = observed[key]["policies"]
            wanted = {names[key]: policy} if policy is not None else {}
            for pname in sorted(set(have) | set(wanted)):
                if canonical(have.get(pname)) != canonical(wanted.get(pname)):
                    changes.append(Change(f"{key} role policy {pname}", "present" if pname in have else None,
                                          "updated" if pname in wanted else None))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        observed = observed or {}
        names = self.role_names()
        iam = self.env.iam
        for key, (trust, policy) in self.documents(ctx).items():
            name = names[key]
            if key not in observed:
                iam.create_role(name, trust, self.tags, f"tscloud {self.env.prefix} {key} role")
                have: dict[str, Any] = {}
            else:
                if canonical(observed[key]["role"]["AssumeRolePolicyDocument"]) != canonical(trust):
                    iam.update_trust(name, trust)
                have = observed[key]["policies"]
            if policy is not None and canonical(have.get(name)) != canonical(policy):
                iam.put_policy(name, name, policy)
            for pname in have:
                if pname != name or policy is None:
                    iam.delete_policy(name, pname)
        return self.outputs(ctx, None)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        account = self.env.account()
        out: Outputs = {f"{key}_role_arn": f"arn:aws:iam::{account}:role/{name}"
                        for key, name in self.role_names().items()}
        out["secret_refs"] = resolve_secret_refs(self.env)
        return out

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for name in self.role_names().values():
            self.env.iam.delete_role(name)


class TaskDefinitionStep(FsStep):
    """A Fargate task definition; a new revision only when something we set differs."""

    kind = "ECS task definition"

    def __init__(self, step_id: str, env: Env, *, needs: Sequence[str], role: str) -> None:
        super().__init__(step_id, env, needs=needs)
        self.role = role

    @property
    def family(self) -> str:
        return self.env.name(self.role)

    def environment(self, ctx: StepContext) -> dict[str, str]:
        cfg = self.env.config
        api = cfg.api
        assert api is not None
        env: dict[str, str] = {"PORT": str(api.port), "TSCLOUD_APP": self.env.app, "TSCLOUD_STAGE": self.env.stage,
                               "AWS_REGION": self.env.region}
        if cfg.database is not None:
            env.update(DATABASE_HOST=str(ctx.output("database", "endpoint")),
                       DATABASE_PORT=str(ctx.output("database", "port")),
                       DATABASE_NAME=str(ctx.output("database", "name")), DATABASE_SSL="require")
        if cfg.cache is not None:
            env.update(REDIS_HOST=str(ctx.output("cache", "endpoint")), REDIS_PORT=str(ctx.output("cache", "port")),
                       REDIS_TLS="true")
        if cfg.queue is not None:
            env["QUEUE_URL"] = str(ctx.output("queue", "queue_url"))
            env["QUEUE_WORKER"] = "service" if cfg.queue.worker == "service" else "in-process"
        if cfg.mail is not None:
            env["MAIL_DOMAIN"] = cfg.mail.domain
        env.update(api.environment)
        for name in api.secrets:  # the user's secret replaces a variable tscloud would set in plain text
            env.pop(name, None)
        return env

    def secrets(self, ctx: StepContext) -> dict[str, str]:
        cfg = self.env.config
        out: dict[str, str] = {}
        if cfg.database is not None:
            arn = ctx.output("database", "secret_arn")
            out.update(DATABASE_USERNAME=f"{arn}:username::", DATABASE_PASSWORD=f"{arn}:password::")
        if cfg.cache is not None:
            out["REDIS_AUTH_TOKEN"] = str(ctx.output("cache", "auth_secret_arn"))
        for var, ref in ctx.output("roles", "secret_refs").items():
            out[var] = ref["value_from"]
        return out

    def definition(self, ctx: StepContext) -> FargateTaskDefinition:
        cfg = self.env.config
        api = cfg.api
        assert api is not None
        ports: tuple[int, ...] = ()
        health: HealthCheck | None = None
        if self.role == "api":
            url = f"http://localhost:{api.port}{api.health_check}"
            ports = (api.port,)
            health = HealthCheck(tuple(api.health_check_command or [
                "CMD-SHELL", f"wget -q -O /dev/null {url} || curl -fsS -o /dev/null {url} || exit 1"]),
                start_period=min(300, max(0, api.grace_period)))
            command = tuple(api.command) if api.command else None
        else:
            assert cfg.queue is not None
            command = tuple(cfg.queue.worker_command)
        container = AppContainer(self.role, ctx.output("image", "image"), self.environment(ctx), self.secrets(ctx),
                                 log_group=ctx.output("logs", "log_group"), log_region=self.env.region,
                                 ports=ports, health_check=health, command=command)
        return FargateTaskDefinition(self.family, api.cpu, api.memory, api.architecture == "arm64",
                                     execution_role_arn=ctx.output("roles", "execution_role_arn"),
                                     task_role_arn=ctx.output("roles", "task_role_arn"), container=container)

    def read(self, ctx: StepContext) -> Any | None:
        return self.env.ecs.latest_task_definition(self.family)

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("task definition", None, f"{self.family}:1")]
        return [Change(setting, have, want) for setting, have, want in self.definition(ctx).differences(observed)]

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        td = self.env.ecs.register_task_definition(self.definition(ctx), self.tags)
        return self.outputs(ctx, td)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"task_definition_arn": observed["taskDefinitionArn"], "family": self.family,
                "revision": observed["revision"], "container": self.role}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        arns = self.env.ecs.task_definition_arns(self.family)
        for arn in arns:
            self.env.ecs.deregister_task_definition(arn)
        self.env.ecs.delete_task_definitions(arns)

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"deregister and delete every revision of {self.family}")]


class ClusterStep(FsStep):
    kind = "ECS cluster"

    @property
    def insights(self) -> bool:
        q = self.env.config.queue
        return q is not None and q.worker == "service"  # the backlog-per-task metric needs RunningTaskCount

    def read(self, ctx: StepContext) -> Any | None:
        return self.env.ecs.cluster(self.env.prefix)

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("cluster", None, self.env.prefix)]
        settings = {s.get("name"): s.get("value") for s in observed.get("settings") or []}
        want = "enabled" if self.insights else "disabled"
        if "containerInsights" in settings and settings["containerInsights"] != want:
            return [Change("containerInsights", settings["containerInsights"], want)]
        return []

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        if observed is None:
            observed = self.env.ecs.create_cluster(self.env.prefix, self.tags, insights=self.insights)
        else:
            self.env.ecs.update_cluster_settings(self.env.prefix, insights=self.insights)
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"cluster": self.env.prefix, "cluster_arn": observed["clusterArn"]}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        try:
            self.env.ecs.delete_cluster(self.env.prefix)
        except TscloudError as exc:
            raise TscloudError(f"cluster {self.env.prefix}: {exc}",
                               "services may still be draining; re-run destroy") from exc
