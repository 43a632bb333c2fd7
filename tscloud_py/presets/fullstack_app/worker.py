"""fullstack-app [queue] worker = "lambda": the queue feeds a function, Bun through tscloud's layer or node.

Steps: ``worker-layer`` (worker_runtime = "bun": npm's Bun release built into the layer, published
when its content differs from the newest version), then ssr-app's worker steps on the app's own queue:
``worker-logs``, ``worker-role`` (its logs, receive/delete on the queue), ``worker`` (the function) and
``worker-events`` (the event source mapping with ``ReportBatchItemFailures``). A schedule with target = "worker" invokes it through
``worker-invoker-role``, which may invoke that function and nothing else.

In the VPC (``worker_in_vpc``), the function runs in the stage's private subnets with the ``worker`` security
group, which the database, Redis and the VPC endpoints admit; its role may manage the network interfaces
Lambda makes for it there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tscloud_py.aws.iam import Iam
from tscloud_py.aws.lambda_ import DIRECT_UPLOAD_LIMIT, Lambda
from tscloud_py.build.bun_layer import RUNTIME, BunLayer, npm_layer
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, StepContext
from tscloud_py.errors import ConfigError
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.fullstack_app.common import FsStep
from tscloud_py.presets.naming import Names

INVOKER_POLICY = "tscloud-invoke-worker"



class BunLayerStep(FsStep):
    """The Bun runtime layer for the worker's architecture, one version per content: an unchanged layer is
    never republished, and a version a killed run published is the newest one, found and kept."""

    kind = "Lambda layer"
    provides = frozenset({"layer_arn"})

    def __init__(self, step_id: str, lam: Lambda, config: Config, names: Names) -> None:
        super().__init__(step_id, config, names)
        self.lam = lam
        queue = config.queue
        assert queue is not None
        self.version, self.arch = queue.worker_bun_version, queue.worker_architecture
        self.name = names.resource(f"bun-{self.arch.replace('_', '-')}", 64)
        self._built: BunLayer | None = None

    def built(self, ctx: StepContext) -> BunLayer:
        if self._built is None:
            self._built = npm_layer(self.version, self.arch, progress=ctx.log)
        return self._built

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        return self.lam.latest_layer_version(self.name)

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        built = self.built(ctx)
        if built.size > DIRECT_UPLOAD_LIMIT:  # known while planning: refused before the first write
            raise ConfigError(self.config.path, "queue.worker_bun_version",
                              f"Bun {self.version}'s layer for {self.arch} is {built.size / 2**20:.1f} MiB zipped, "
                              f"over the {DIRECT_UPLOAD_LIMIT // 2**20} MiB Lambda takes in a PublishLayerVersion "
                              "request (tscloud does not stage the worker's layer in S3)",
                              "pin a release whose layer fits (1.4.4's is 49.3 MiB), or use a nodejs worker_runtime")
        have = (observed or {}).get("Content", {}).get("CodeSha256")
        want = built.code_sha256
        if have == want:
            return []
        return [Change(f"layer {self.name}", f"version {observed['Version']}" if observed else None,
                       f"Bun {self.version} ({self.arch}, {self.built(ctx).size // (1024 * 1024)} MiB zipped)")]

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        built = self.built(ctx)
        version, _published = self.lam.publish_layer_if_changed(
            self.name, built.read(), runtimes=[RUNTIME], architectures=[self.arch],
            description=self.names.description(f"Bun {self.version}"))
        return self.outputs(ctx, version)

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"layer_arn": str(observed["LayerVersionArn"])}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        for version in self.lam.layer_versions(self.name):
            self.lam.delete_layer_version(self.name, int(version["Version"]))


def _scheduler_trust(account: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}


class InvokerRoleStep(FsStep):
    """The role EventBridge Scheduler assumes for target = "worker" schedules: lambda:InvokeFunction on the
    worker function, nothing else."""

    kind = "IAM role"
    provides = frozenset({"role_arn"})

    def __init__(self, step_id: str, iam: Iam, config: Config, names: Names, *, account: Callable[[], str],
                 needs: Sequence[str], function_arn: Ref[str]) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.iam, self.account = iam, account
        self.function_arn = function_arn
        self.name = names.regional("worker-invoker")

    def documents(self, ctx: StepContext) -> tuple[dict[str, Any], dict[str, Any]]:
        """(trust, inline policy)."""
        policy = {"Version": "2012-10-17", "Statement": [{"Sid": "InvokeWorker", "Effect": "Allow",
                                                          "Action": ["lambda:InvokeFunction"],
                                                          "Resource": [ctx.get(self.function_arn)]}]}
        return _scheduler_trust(self.account()), policy

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        role = self.iam.role(self.name)
        return None if role is None else {"role": role, "policies": self.iam.inline_policies(self.name)}

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"create role {self.name} (invoke the worker only)")]
        trust, policy = self.documents(ctx)
        changes = []
        if canonical(observed["role"]["AssumeRolePolicyDocument"]) != canonical(trust):
            changes.append(Change("trust", "differs", "scheduler.amazonaws.com"))
        if canonical(observed["policies"]) != canonical({INVOKER_POLICY: policy}):
            changes.append(Change(f"policy {INVOKER_POLICY}", "differs" if observed["policies"] else None,
                                  "lambda:InvokeFunction on the worker"))
        return changes

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        trust, policy = self.documents(ctx)
        if observed is None:
            arn = self.iam.create_role(self.name, trust, self.tags, self.names.description("worker invoker"))
            have: dict[str, Any] = {}
        else:
            arn = str(observed["role"]["Arn"])
            if canonical(observed["role"]["AssumeRolePolicyDocument"]) != canonical(trust):
                self.iam.update_trust(self.name, trust)
            have = observed["policies"]
        if canonical(have.get(INVOKER_POLICY)) != canonical(policy):
            self.iam.put_policy(self.name, INVOKER_POLICY, policy)
        for name in set(have) - {INVOKER_POLICY}:
            self.iam.delete_policy(self.name, name)
        return {"role_arn": arn}

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {"role_arn": str(observed["role"]["Arn"])}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.iam.delete_role(self.name)


def worker_code(config: Config, *, reads_secrets: bool) -> Callable[[], tuple[bytes, str]]:
    """The worker's code zip and its CodeSha256, zipped once per run and only when asked; with the secret
    resolver when the function reads secrets."""
    from tscloud_py.presets.ssr_app.workers import worker_code as zipped
    from tscloud_py.presets.steps.secrets import resolver_entry

    queue = config.queue
    assert queue is not None and queue.worker_dir is not None
    directory = (config.base_dir / queue.worker_dir).resolve()
    cache: dict[Path, tuple[bytes, str]] = {}

    def code() -> tuple[bytes, str]:
        if directory not in cache:
            cache[directory] = zipped(directory, [resolver_entry()] if reads_secrets else [])
        return cache[directory]

    return code
