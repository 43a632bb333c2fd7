"""ssr-app: a Nitro build (TanStack Start, Nuxt, ...) on Lambda, behind CloudFront, assets on S3.

Steps (origin = "function-url"):

    bucket, oac ───────────────────────────────┐
    log-group -> role -> function -> function-url ─┼─> distribution -> server-permission
    server-oac, edge-function ─────────────────┘              └──> bucket-policy
    bucket -> upload ─────────────────────────────────> invalidation

With origin = "api-gateway", ``function-url`` and ``server-oac`` are replaced by ``api`` (a regional
REST API, Lambda proxy, responseTransferMode STREAM when streaming) and ``server-permission`` lets
that API invoke the function. Each ``[[ssr.workers]]`` entry adds a queue, a DLQ and a function fed by
them (see ``ssr_workers``).

Streaming is decided by the build's nitro.json; ``[ssr] streaming`` may state the
expectation, and a contradiction is a config error (exit 2) before anything is touched.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.apigateway import ApiGateway
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.iam import Iam
from tscloud_py.aws.lambda_ import Lambda, newest_node_runtime
from tscloud_py.aws.logs import Logs
from tscloud_py.aws.s3 import S3
from tscloud_py.build.nitro import NitroBuild, NotNitroBuildError, PublicEntry, read_nitro_build
from tscloud_py.build.zipper import code_sha256
from tscloud_py.config.tables.common import env_secret_refs
from tscloud_py.config.tables.ssr import SsrConfig
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Outputs, Step, StepContext
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.ssr_app.distribution import SsrDistributionStep
from tscloud_py.presets.ssr_app.rest_api import ApiPermissionStep, RestApiStep
from tscloud_py.presets.ssr_app.steps import (
    FORWARDED_HOST_CODE,
    CodeStaging,
    FunctionStep,
    FunctionUrlStep,
    ServerRoleStep,
    UrlPermissionStep,
)
from tscloud_py.presets.ssr_app.workers import worker_steps
from tscloud_py.presets.steps.alarm_catalogue import watched
from tscloud_py.presets.steps.alarms import alert_steps
from tscloud_py.presets.steps.common import LogGroupStep
from tscloud_py.presets.steps.edge_function import EdgeFunctionStep
from tscloud_py.presets.steps.secrets import (
    RESOLVER_PATH,
    SecretReader,
    resolver_entry,
)
from tscloud_py.presets.steps.site import (
    BucketPolicyStep,
    BucketStep,
    OriginAccessControlStep,
    legacy_distribution_uses_oac,
)
from tscloud_py.presets.steps.upload import InvalidationStep, UploadStep
from tscloud_py.presets.steps.web_acl import WebAclStep, web_acl_step

if TYPE_CHECKING:
    from tscloud_py.aws.waiters import ProgressCallback

MAX_ASSET_BEHAVIORS = 24  # CloudFront's default quota is 25 cache behaviors; keep one for others
_PATH_PATTERN_CHARS = re.compile(r"^[A-Za-z0-9_\-.$~'@:+&]+$")


class SsrApp(Preset):

    @property
    def ssr(self) -> SsrConfig:
        assert self.config.ssr is not None  # the loader requires [ssr] for this preset
        return self.config.ssr

    @property
    def build_dir(self) -> Path:
        return (self.config.base_dir / self.ssr.dir).resolve()

    @cached_property
    def build(self) -> NitroBuild | None:
        try:
            return read_nitro_build(self.build_dir, shown=self.ssr.dir)
        except NotNitroBuildError:
            return None

    def _require_build(self) -> NitroBuild:
        if self.build is None:
            try:
                read_nitro_build(self.build_dir, shown=self.ssr.dir)
            except NotNitroBuildError as exc:
                raise ConfigError(self.config.path, "ssr.dir", exc.message,
                                  "build the app first (`vite build`), or point ssr.dir at its output") from None
        assert self.build is not None
        return self.build

    @property
    def streaming(self) -> bool:
        return self.build.streaming if self.build is not None else bool(self.ssr.streaming)

    @property
    def entries(self) -> list[PublicEntry]:
        return self.build.public_entries() if self.build is not None else []

    @cached_property
    def runtime(self) -> str:
        return self.ssr.runtime or newest_node_runtime()

    @cached_property
    def server_code(self) -> tuple[bytes, str]:
        extra = [resolver_entry()] if "function" in self.secret_readers() else []
        data = self._require_build().server_zip(extra)
        return data, code_sha256(data)

    def secret_readers(self) -> dict[str, SecretReader]:
        """The server function and each worker whose environment references a secret (read at init)."""
        readers = {}
        if refs := env_secret_refs(self.ssr.environment):
            readers["function"] = SecretReader("ssr.environment", refs)
        for i, worker in enumerate(self.ssr.workers):
            if refs := env_secret_refs(worker.environment):
                readers[f"worker-{worker.name}"] = SecretReader(f"ssr.workers[{i}].environment", refs)
        return readers

    def preflight(self) -> None:
        self.check_secrets()

    def refresh_secret_readers(self, step_ids: list[str], progress: ProgressCallback | None = None
                               ) -> tuple[list[dict[str, str]], list[str]]:
        """Each function that reads them is pointed at their current versions (a configuration update,
        waited for): the execution environments Lambda starts after it read the new values."""
        lam = Lambda(self.aws)
        functions = {"function": self.names.resource("server"),
                     **{f"worker-{w.name}": self.names.resource(w.name) for w in self.ssr.workers}}
        refreshed, missing = [], []
        for step_id in step_ids:
            secrets = self.function_secrets(step_id)
            if secrets is None:
                continue
            state = secrets.refresh(lam, functions[step_id], progress=progress)
            if state is None:
                missing.append(functions[step_id])
            else:
                refreshed.append({"function": functions[step_id], "state": state})
        return refreshed, missing

    def validate(self) -> None:
        self.check_published("ssr", "dir", self.ssr.dir, allow_outside=self.ssr.allow_outside,
                             include=self.ssr.include, sub="public")
        build = self._require_build()
        if not build.is_lambda:
            raise ConfigError(self.config.path, "ssr.dir",
                              f"{self.ssr.dir} was built with Nitro preset {build.preset!r}, not aws-lambda",
                              "set the Nitro preset to \"aws-lambda\" and rebuild")
        if self.ssr.streaming is not None and self.ssr.streaming != build.streaming:
            built = "streams" if build.streaming else "does not stream"
            raise ConfigError(self.config.path, "ssr.streaming",
                              f"{self.ssr.streaming} contradicts the build: {self.ssr.dir}/nitro.json {built}",
                              "fix Nitro's awsLambda.streaming and rebuild, or change ssr.streaming "
                              "(`tscloud ssr doctor` explains)")
        if not build.exports_handler():
            raise ConfigError(self.config.path, "ssr.dir", f"{self.ssr.dir}/server has no index.* exporting handler",
                              "run `tscloud ssr doctor` for the fix")
        self._validate_workers()
        if "function" in self.secret_readers() and (build.server_dir / RESOLVER_PATH).exists():
            raise ConfigError(self.config.path, "ssr.environment", f"the build holds {RESOLVER_PATH}, where "
                              "tscloud puts the resolver that reads the function's secrets", "rename that file")
        entries = build.public_entries()
        if len(entries) > MAX_ASSET_BEHAVIORS:
            raise ConfigError(self.config.path, "ssr.dir",
                              f"{self.ssr.dir}/public has {len(entries)} top-level entries; CloudFront allows "
                              f"{MAX_ASSET_BEHAVIORS} behaviors for them", "move public files into a few directories")
        for entry in entries:
            if not _PATH_PATTERN_CHARS.match(entry.name):
                raise ConfigError(self.config.path, "ssr.dir",
                                  f"public entry {entry.name!r} has characters a CloudFront path pattern cannot hold",
                                  "rename it (letters, digits, - _ . ~ only)")

    def _validate_workers(self) -> None:
        # unique, unreserved names: the config's check_ssr
        for i, worker in enumerate(self.ssr.workers):
            key = f"ssr.workers[{i}]"
            self.check_published("ssr", f"workers[{i}].dir", worker.dir, allow_outside=self.ssr.allow_outside,
                                 private=False)
            code_dir = (self.config.base_dir / worker.dir).resolve()
            if not code_dir.is_dir() or not any(p.is_file() for p in code_dir.rglob("*")):
                raise ConfigError(self.config.path, f"{key}.dir", f"{code_dir} is missing or has no files")
            if worker.batch_size > 10 and worker.batching_window < 1:
                raise ConfigError(self.config.path, f"{key}.batching_window",
                                  "must be at least 1 when batch_size is above 10 (an SQS rule)")

    def steps(self) -> list[Step]:
        config, aws, names, ssr = self.config, self.aws, self.names, self.ssr
        s3, cloudfront, lam = S3(aws), CloudFront(aws), Lambda(aws)
        function_name = names.resource("server")

        def bucket_name() -> str:
            return names.bucket(aws.account_id(), "assets")

        def legacy_oac_is_ours(ctx: StepContext, oac: dict[str, Any]) -> bool:
            return legacy_distribution_uses_oac(cloudfront, names.legacy_distribution_comment("distribution"),
                                                bucket_name(), oac)

        bucket = BucketStep("bucket", s3, bucket_name, names)
        oac = OriginAccessControlStep("oac", cloudfront, names.regional("assets"), legacy_name=names.legacy("assets"),
                                      legacy_is_ours=legacy_oac_is_ours)
        log_group, role, function = self.server_steps(bucket.output("bucket"), staging_needs=["bucket"])
        edge_function = EdgeFunctionStep("edge-function", cloudfront, names.regional("forwarded-host"),
                                         code=FORWARDED_HOST_CODE, comment="tscloud: viewer Host -> x-forwarded-host",
                                         what="x-forwarded-host", legacy_name=names.legacy("forwarded-host"))
        steps: list[Step] = [bucket, oac, log_group, role, function, edge_function]
        web_acl = web_acl_step(config, aws, names)
        if web_acl:
            steps.append(web_acl)

        if ssr.origin == "api-gateway":
            api = RestApiStep("api", ApiGateway(aws), function_name, names, streaming=self.streaming,
                              function_arn=function.output("function_arn"), needs=["function"])
            distribution_needs = ["bucket", "oac", "api", "edge-function"]
            if web_acl:
                distribution_needs.append("web-acl")
            distribution = self._distribution(
                needs=distribution_needs, bucket=bucket, oac=oac, edge_function=edge_function,
                server_domain=api.output("api_domain"), server_path="/live", server_oac=None, web_acl=web_acl)
            steps += [
                api,
                # after the function, whose policy the permission is added to
                ApiPermissionStep("server-permission", lam, function_name, aws.region, aws.account_id,
                                  api_id=api.output("api_id"), needs=["function", "api"]),
                distribution,
            ]
        else:
            server_oac = OriginAccessControlStep("server-oac", cloudfront, names.regional("server"),
                                                 origin_type="lambda", legacy_name=names.legacy("server"),
                                                 legacy_is_ours=legacy_oac_is_ours)
            # after the function, whose URL it configures
            function_url = FunctionUrlStep("function-url", lam, function_name, streaming=self.streaming,
                                           needs=["function"])
            distribution_needs = ["bucket", "oac", "server-oac", "function-url", "edge-function"]
            if web_acl:
                distribution_needs.append("web-acl")
            distribution = self._distribution(
                needs=distribution_needs, bucket=bucket, oac=oac, edge_function=edge_function,
                server_domain=function_url.output("url_domain"), server_path="", server_oac=server_oac,
                web_acl=web_acl)
            steps += [
                server_oac,
                function_url,
                distribution,
                # after the function, whose policy the permission is added to
                UrlPermissionStep("server-permission", lam, function_name, needs=["function", "distribution"],
                                  distribution_arn=distribution.output("distribution_arn")),
            ]

        upload = UploadStep("upload", s3, self.build_dir / "public", needs=["bucket"], bucket=bucket.output("bucket"),
                            include=tuple(ssr.include), concurrency=self.options.upload_concurrency,
                            hash_cache=config.base_dir / ".tscloud" / "cache")
        steps += [
            BucketPolicyStep("bucket-policy", s3, needs=["bucket", "distribution"], bucket=bucket.output("bucket"),
                             bucket_arn=bucket.output("bucket_arn"),
                             distribution_arns=[distribution.output("distribution_arn")]),
            upload,
            # after the bucket policy too: before it, CloudFront cannot read what the invalidation refreshes
            InvalidationStep("invalidation", cloudfront, names, needs=["upload", "distribution", "bucket-policy"],
                             upload=upload, distribution_id=distribution.output("distribution_id"),
                             wait=self.options.wait_invalidation),
        ]
        watching = [watched("function", "server", function_name=function.output("function_name")),
                    watched("distribution", "cdn", distribution_id=distribution.output("distribution_id"))]
        for worker in ssr.workers:
            queue, _logs, _role, worker_function, _events = made = worker_steps(
                aws, worker, names, base_dir=config.base_dir, default_runtime=self.runtime,
                secrets=self.function_secrets(f"worker-{worker.name}"))
            steps += made
            watching += [watched("function", worker.name, function_name=worker_function.output("function_name")),
                         watched("queue", worker.name, queue_url=queue.output("queue_url"),
                                 dlq_url=queue.output("dlq_url"))]
        return steps + alert_steps(names, config.alerts, aws, watching)

    def server_steps(self, bucket: Ref[str], *, staging_needs: list[str],
                     staging_prefix: str = "") -> tuple[LogGroupStep, ServerRoleStep, FunctionStep]:
        """The server's log group, role and function (a code zip over Lambda's inline limit staged in
        ``bucket`` under ``staging_prefix``, the bucket made by one of ``staging_needs``)."""
        aws, names, ssr = self.aws, self.names, self.ssr
        function_name = names.resource("server")
        log_group = LogGroupStep("log-group", Logs(aws), names.function_log_group(function_name),
                                 ssr.log_retention_days, names)
        role = ServerRoleStep("role", Iam(aws), names.regional("server"),
                              [(list(p.actions), list(p.resources)) for p in ssr.permissions], names,
                              needs=["log-group"], log_group_arn=log_group.output("log_group_arn"),
                              legacy_name=names.legacy("server"), secrets=self.function_secrets("function"))
        function = FunctionStep(
            "function", Lambda(aws), function_name, lambda: self.server_code, names, runtime=self.runtime,
            handler=self.build.handler if self.build else "index.handler", memory=ssr.memory, timeout=ssr.timeout,
            architecture=ssr.architecture, environment=dict(ssr.environment), layers=list(ssr.layers),
            role_arn=role.output("role_arn"),
            # after its log group, or Lambda makes one itself, kept forever
            needs=["role", "log-group", *staging_needs],
            staging=CodeStaging(S3(aws), bucket, staging_prefix + CodeStaging.key_prefix),
            secrets=self.function_secrets("function"))
        return log_group, role, function

    def _distribution(self, *, needs: list[str], bucket: BucketStep, oac: OriginAccessControlStep,
                      edge_function: EdgeFunctionStep, server_domain: Ref[str], server_path: str,
                      server_oac: OriginAccessControlStep | None, web_acl: WebAclStep | None) -> SsrDistributionStep:
        return SsrDistributionStep(
            "distribution", CloudFront(self.aws), self.names, entries=self.entries, price_class=self.ssr.price_class,
            read_timeout=self.ssr.timeout, needs=needs, bucket_domain=bucket.output("bucket_domain"),
            oac_id=oac.output("oac_id"), server_domain=server_domain, server_path=server_path,
            server_oac_id=server_oac.output("oac_id") if server_oac else None,
            edge_function_arn=edge_function.output("function_arn"),
            web_acl_arn=web_acl.output("web_acl_arn") if web_acl else None)

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        dist = step_outputs["distribution"]
        origin = ({"api_id": step_outputs["api"]["api_id"]} if self.ssr.origin == "api-gateway"
                  else {"function_url": step_outputs["function-url"]["function_url"]})
        return {
            "function_name": step_outputs["function"]["function_name"],
            **origin,
            "distribution_id": dist["distribution_id"],
            "url": f"https://{dist['distribution_domain']}",
            "assets_bucket": step_outputs["bucket"]["bucket"],
            "streaming": self.streaming,
            **({"queues": {w.name: step_outputs[f"queue-{w.name}"]["queue_url"] for w in self.ssr.workers}}
               if self.ssr.workers else {}),
        }
