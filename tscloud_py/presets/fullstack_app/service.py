"""Compute tier, part 1: IAM roles (least privilege), task definitions, the ECS cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tscloud_py.aws.ecs import AppContainer, Ecs, FargateTaskDefinition, HealthCheck
from tscloud_py.aws.iam import Iam
from tscloud_py.aws.secrets import Secrets
from tscloud_py.concurrency import each, together
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import TscloudError
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.fullstack_app.common import FsStep, compare
from tscloud_py.presets.naming import Names, region_code
from tscloud_py.presets.steps.secrets import Resolved, read_statements, resolve_refs

ECS_TASKS = "ecs-tasks.amazonaws.com"


def resolve_secret_refs(config: Config, secrets: Secrets, names: Names, account: Callable[[], str]) -> Resolved:
    """[api.secrets] resolved (``presets.steps.secrets.resolve_refs``)."""
    api = config.api
    assert api is not None
    return resolve_refs(api.secrets, key="api.secrets", shown=str(config.path), secrets=secrets, names=names,
                        account=account)


def _refs(step: Step, *keys: str) -> dict[str, Ref[Any]]:
    """References to the outputs ``keys`` of ``step``, by key."""
    return {key: step.output(key) for key in keys}


def _trust(service: str, account: str | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account:
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": "2012-10-17", "Statement": [stmt]}


class RolesStep(FsStep):
    """Execution role: read exactly these secrets, pull exactly this repository, write this log group.
    Task role: exactly this queue and this SES identity. Scheduler role: run exactly this task family."""

    kind = "IAM roles"
    provides = frozenset({"execution_role_arn", "task_role_arn", "scheduler_role_arn", "secret_refs"})

    def __init__(self, step_id: str, iam: Iam, secrets: Secrets, config: Config, names: Names, *,
                 account: Callable[[], str], needs: Sequence[str], logs: Step, image: Step,
                 database: Step | None, cache: Step | None, queue: Step | None, mail: Step | None) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.iam, self.secrets, self.account = iam, secrets, account
        self.log_group_arn: Ref[str] = logs.output("log_group_arn")
        self.repository_arn: Ref[str | None] = image.output("repository_arn")
        # what the roles may read or use besides: each there only with its table
        self.database_secret: Ref[str] | None = database.output("secret_arn") if database else None
        self.cache_secret: Ref[str] | None = cache.output("auth_secret_arn") if cache else None
        self.queue_arn: Ref[str] | None = queue.output("queue_arn") if queue else None
        self.identity_arn: Ref[str] | None = mail.output("identity_arn") if mail else None

    # Set by read() when this region's roles predate region-named roles: IAM cannot rename a role.
    _legacy = False

    def role_names(self, *, legacy: bool | None = None) -> dict[str, str]:
        """IAM is global: the names carry the region's code, unless these are the roles made before that."""
        legacy = self._legacy if legacy is None else legacy
        code = "" if legacy else f"{region_code(self.names.region)}-"
        names = {"execution": self.names.resource(f"{code}exec", 64), "task": self.names.resource(f"{code}task", 64)}
        if any(s.target == "task" for s in self.config.schedules):
            names["scheduler"] = self.names.resource(f"{code}scheduler", 64)
        return names

    def _legacy_roles_are_ours(self, ctx: StepContext) -> bool:
        """Pre-region roles belong to this region when the execution role writes this region's log group."""
        name = self.role_names(legacy=True)["execution"]
        if self.iam.role(name) is None:
            return False
        policy = self.iam.inline_policies(name).get(name) or {}
        logs = next((st.get("Resource") for st in policy.get("Statement", []) if st.get("Sid") == "Logs"), None)
        return bool(logs == [f"{ctx.get(self.log_group_arn)}:log-stream:*"])

    def documents(self, ctx: StepContext) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
        """role -> (trust policy, inline policy or None)."""
        refs = resolve_secret_refs(self.config, self.secrets, self.names, self.account)
        log_arn = ctx.get(self.log_group_arn)
        execution: list[dict[str, Any]] = [
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [f"{log_arn}:log-stream:*"]},
        ]
        repo_arn = ctx.get(self.repository_arn)
        if repo_arn:
            execution += [
                {"Sid": "PullImage", "Effect": "Allow", "Resource": [repo_arn],
                 "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]},
                # GetAuthorizationToken has no resource-level permissions: AWS requires "*" here.
                {"Sid": "RegistryLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
            ]
        tscloud_own = [ctx.get(ref) for ref in (self.database_secret, self.cache_secret) if ref is not None]
        execution += read_statements(refs, self.names.region, also=tscloud_own)
        task: list[dict[str, Any]] = []
        if self.queue_arn is not None:
            task.append({"Sid": "Queue", "Effect": "Allow", "Resource": [ctx.get(self.queue_arn)],
                         "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                    "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:SendMessage"]})
        if self.identity_arn is not None:
            task.append({"Sid": "Mail", "Effect": "Allow", "Resource": [ctx.get(self.identity_arn)],
                         "Action": ["ses:SendEmail", "ses:SendRawEmail"]})
        docs: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
            "execution": (_trust(ECS_TASKS), {"Version": "2012-10-17", "Statement": execution}),
            "task": (_trust(ECS_TASKS), {"Version": "2012-10-17", "Statement": task} if task else None),
        }
        if "scheduler" in self.role_names():
            account = self.account()
            family = self.names.arn(self.account(), "ecs", f"task-definition/{self.names.resource('api')}")
            families = [family, f"{family}:*"]
            role_arns = [f"arn:aws:iam::{account}:role/{self.role_names()[r]}" for r in ("execution", "task")]
            cluster_arn = self.names.arn(self.account(), "ecs", f"cluster/{self.names.prefix}")
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
        iam = self.iam
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
        iam = self.iam
        for key, (trust, policy) in self.documents(ctx).items():
            name = names[key]
            if key not in observed:
                iam.create_role(name, trust, self.tags, self.names.description(f"{key} role"))
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
        account = self.account()
        out: Outputs = {f"{key}_role_arn": f"arn:aws:iam::{account}:role/{name}"
                        for key, name in self.role_names().items()}
        out["secret_refs"] = resolve_secret_refs(self.config, self.secrets, self.names, self.account)
        return out

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for name in self.role_names().values():
            self.iam.delete_role(name)


class TaskDefinitionStep(FsStep):
    """A Fargate task definition; a new revision only when something we set differs."""

    kind = "ECS task definition"
    provides = frozenset({"task_definition_arn", "family", "revision", "container"})

    def __init__(self, step_id: str, ecs: Ecs, config: Config, names: Names, *, role: str, needs: Sequence[str],
                 image: Step, logs: Step, roles: Step, database: Step | None, cache: Step | None,
                 queue: Step | None) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.ecs = ecs
        self.role = role
        self.image: Ref[str] = image.output("image")
        self.log_group: Ref[str] = logs.output("log_group")
        self.roles = _refs(roles, "execution_role_arn", "task_role_arn", "secret_refs")
        self.database = _refs(database, "endpoint", "port", "name", "secret_arn") if database else None
        self.cache = _refs(cache, "endpoint", "port", "auth_secret_arn") if cache else None
        self.queue_url: Ref[str] | None = queue.output("queue_url") if queue else None

    @property
    def family(self) -> str:
        return self.names.resource(self.role)

    def environment(self, ctx: StepContext) -> dict[str, str]:
        cfg = self.config
        api = cfg.api
        assert api is not None
        env: dict[str, str] = {"PORT": str(api.port), "TSCLOUD_APP": self.names.app, "TSCLOUD_STAGE": self.names.stage,
                               "AWS_REGION": self.names.region}
        if self.database is not None:
            host, port = str(ctx.get(self.database["endpoint"])), str(ctx.get(self.database["port"]))
            name = str(ctx.get(self.database["name"]))
            # the database refuses connections without TLS (rds.force_ssl): every way of connecting asks for it;
            # the user and password come as the DATABASE_USERNAME/DATABASE_PASSWORD secrets
            env.update(DATABASE_HOST=host, DATABASE_PORT=port, DATABASE_NAME=name, DATABASE_SSL="require",
                       DATABASE_URL=f"postgresql://{host}:{port}/{name}?sslmode=require", PGSSLMODE="require")
        if self.cache is not None:
            env.update(REDIS_HOST=str(ctx.get(self.cache["endpoint"])), REDIS_PORT=str(ctx.get(self.cache["port"])),
                       REDIS_TLS="true")
        if self.queue_url is not None and cfg.queue is not None:
            env["QUEUE_URL"] = str(ctx.get(self.queue_url))
            env["QUEUE_WORKER"] = cfg.queue.worker  # "lambda": the API leaves the queue to the function
        if cfg.mail is not None:
            env["MAIL_DOMAIN"] = cfg.mail.domain
        env.update(api.environment)
        for name in api.secrets:  # the user's secret replaces a variable tscloud would set in plain text
            env.pop(name, None)
        return env

    def secrets(self, ctx: StepContext) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.database is not None:
            arn = ctx.get(self.database["secret_arn"])
            out.update(DATABASE_USERNAME=f"{arn}:username::", DATABASE_PASSWORD=f"{arn}:password::")
        if self.cache is not None:
            out["REDIS_AUTH_TOKEN"] = str(ctx.get(self.cache["auth_secret_arn"]))
        for var, ref in ctx.get(self.roles["secret_refs"]).items():
            out[var] = ref["value_from"]
        return out

    def definition(self, ctx: StepContext) -> FargateTaskDefinition:
        cfg = self.config
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
        container = AppContainer(self.role, ctx.get(self.image), self.environment(ctx), self.secrets(ctx),
                                 log_group=ctx.get(self.log_group), log_region=self.names.region,
                                 ports=ports, health_check=health, command=command)
        return FargateTaskDefinition(self.family, api.cpu, api.memory, api.architecture == "arm64",
                                     execution_role_arn=ctx.get(self.roles["execution_role_arn"]),
                                     task_role_arn=ctx.get(self.roles["task_role_arn"]), container=container)

    def read(self, ctx: StepContext) -> Any | None:
        return self.ecs.latest_task_definition(self.family)

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("task definition", None, f"{self.family}:1")]
        return [Change(setting, have, want) for setting, have, want in self.definition(ctx).differences(observed)]

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        td = self.ecs.register_task_definition(self.definition(ctx), self.tags)
        return self.outputs(ctx, td)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"task_definition_arn": observed["taskDefinitionArn"], "family": self.family,
                "revision": observed["revision"], "container": self.role}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        arns = self.ecs.task_definition_arns(self.family)
        for arn in arns:
            self.ecs.deregister_task_definition(arn)
        self.ecs.delete_task_definitions(arns)

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"deregister and delete every revision of {self.family}")]


class ClusterStep(FsStep):
    kind = "ECS cluster"
    provides = frozenset({"cluster", "cluster_arn"})

    def __init__(self, step_id: str, ecs: Ecs, config: Config, names: Names) -> None:
        super().__init__(step_id, config, names)
        self.ecs = ecs

    @property
    def insights(self) -> bool:
        # the backlog-per-task metric and the alarm on running < desired need RunningTaskCount
        q = self.config.queue
        return (q is not None and q.worker == "service") or self.config.alerts is not None

    def read(self, ctx: StepContext) -> Any | None:
        return self.ecs.cluster(self.names.prefix)

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("cluster", None, self.names.prefix)]
        settings = {s.get("name"): s.get("value") for s in observed.get("settings") or []}
        want = "enabled" if self.insights else "disabled"
        if "containerInsights" in settings and settings["containerInsights"] != want:
            return [Change("containerInsights", settings["containerInsights"], want)]
        return []

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        if observed is None:
            observed = self.ecs.create_cluster(self.names.prefix, self.tags, insights=self.insights)
        else:
            self.ecs.update_cluster_settings(self.names.prefix, insights=self.insights)
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"cluster": self.names.prefix, "cluster_arn": observed["clusterArn"]}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        try:
            self.ecs.delete_cluster(self.names.prefix)
        except TscloudError as exc:
            raise TscloudError(f"cluster {self.names.prefix}: {exc}",
                               "services may still be draining; re-run destroy") from exc
