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

import hashlib
import re
from functools import cached_property
from pathlib import Path
from typing import Any

from tscloud_py.aws.apigateway import ApiGateway
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.iam import Iam
from tscloud_py.aws.lambda_ import Lambda, newest_node_runtime
from tscloud_py.aws.logs import Logs
from tscloud_py.aws.s3 import S3
from tscloud_py.build.nitro import NitroBuild, NotNitroBuildError, PublicEntry, read_nitro_build
from tscloud_py.build.zipper import code_sha256
from tscloud_py.config.tables.ssr import SsrConfig
from tscloud_py.engine.step import Outputs, Step, StepContext
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.naming import legacy_distribution_comment, regional_name
from tscloud_py.presets.ssr_app.distribution import SsrDistributionStep
from tscloud_py.presets.ssr_app.rest_api import ApiPermissionStep, RestApiStep
from tscloud_py.presets.ssr_app.steps import (
    EdgeFunctionStep,
    FunctionStep,
    FunctionUrlStep,
    ServerRoleStep,
    UrlPermissionStep,
)
from tscloud_py.presets.ssr_app.workers import worker_steps
from tscloud_py.presets.static_site import site_bucket_name
from tscloud_py.presets.steps.common import LogGroupStep
from tscloud_py.presets.steps.site import (
    BucketPolicyStep,
    BucketStep,
    OriginAccessControlStep,
    legacy_distribution_uses_oac,
)
from tscloud_py.presets.steps.upload import InvalidationStep, UploadStep

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
        data = self._require_build().server_zip()
        return data, code_sha256(data)

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

    def _stage_code(self, ctx: StepContext, data: bytes, sha: str) -> tuple[str, str]:
        """Put a server zip above Lambda's 50 MB inline limit in the assets bucket, under ``_tscloud/``
        (the asset sync never touches that prefix, and no CloudFront behavior serves it)."""
        bucket = ctx.output("bucket", "bucket")
        key = f"_tscloud/code/server/{hashlib.sha256(data).hexdigest()}.zip"
        S3(self.aws).put_object(bucket, key, data, content_type="application/zip", cache_control="no-store")
        return bucket, key

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
        config, aws = self.config, self.aws
        app, stage, prefix = config.app, config.stage, self.prefix
        s3, cloudfront, lam = S3(aws), CloudFront(aws), Lambda(aws)
        function_name = f"{prefix}-server"
        region = aws.region

        def assets_bucket() -> str:
            return site_bucket_name(app, stage, aws.account_id(), region, "assets")

        def oac_is_ours(ctx: StepContext, oac: dict[str, Any]) -> bool:
            return legacy_distribution_uses_oac(cloudfront, legacy_distribution_comment(app, stage, "distribution"),
                                                assets_bucket(), oac)

        steps: list[Step] = [
            BucketStep("bucket", s3, assets_bucket, app=app, stage=stage),
            OriginAccessControlStep("oac", cloudfront, regional_name(app, stage, region, "assets"),
                                    legacy_name=f"{prefix}-assets", legacy_is_ours=oac_is_ours),
            LogGroupStep("log-group", Logs(aws), f"/aws/lambda/{function_name}", self.ssr.log_retention_days,
                         app=app, stage=stage),
            ServerRoleStep("role", Iam(aws), regional_name(app, stage, region, "server"),
                           [(list(p.actions), list(p.resources)) for p in self.ssr.permissions], app=app, stage=stage,
                           legacy_name=f"{prefix}-server"),
            FunctionStep("function", lam, function_name, lambda: self.server_code, runtime=self.runtime,
                         handler=self.build.handler if self.build else "index.handler", memory=self.ssr.memory,
                         timeout=self.ssr.timeout, architecture=self.ssr.architecture,
                         environment=dict(self.ssr.environment), layers=list(self.ssr.layers), app=app, stage=stage,
                         needs=("role", "log-group", "bucket"), stage_code=self._stage_code),
            EdgeFunctionStep("edge-function", cloudfront, regional_name(app, stage, region, "forwarded-host"),
                             emulator=aws.is_custom_endpoint, legacy_name=f"{prefix}-forwarded-host"),
        ]
        if self.ssr.origin == "api-gateway":
            steps += [
                RestApiStep("api", ApiGateway(aws), f"{prefix}-server", aws.region, streaming=self.streaming,
                            app=app, stage=stage),
                ApiPermissionStep("server-permission", lam, function_name, aws.region, aws.account_id),
                self._distribution(("bucket", "oac", "api", "edge-function"), ("api", "api_domain"),
                                   server_path="/live", server_oac_step=None),
            ]
        else:
            steps += [
                OriginAccessControlStep("server-oac", cloudfront, regional_name(app, stage, region, "server"),
                                        origin_type="lambda", legacy_name=f"{prefix}-server",
                                        legacy_is_ours=oac_is_ours),
                FunctionUrlStep("function-url", lam, function_name, streaming=self.streaming),
                self._distribution(("bucket", "oac", "server-oac", "function-url", "edge-function"),
                                   ("function-url", "url_domain"), server_path="", server_oac_step="server-oac"),
                UrlPermissionStep("server-permission", lam, function_name),
            ]
        steps += [
            BucketPolicyStep("bucket-policy", s3, needs=("bucket", "distribution")),
            UploadStep("upload", s3, self.build_dir / "public", needs=("bucket",), include=tuple(self.ssr.include),
                       concurrency=self.options.upload_concurrency),
            InvalidationStep("invalidation", cloudfront, app=app, stage=stage,
                             needs=("upload", "distribution", "bucket-policy")),
        ]
        for worker in self.ssr.workers:
            steps += worker_steps(aws, worker, base_dir=config.base_dir, app=app, stage=stage,
                                  default_runtime=self.runtime)
        return steps

    def _distribution(self, needs: tuple[str, ...], domain_ref: tuple[str, str], *, server_path: str,
                      server_oac_step: str | None) -> Step:
        return SsrDistributionStep("distribution", CloudFront(self.aws), app=self.config.app, stage=self.config.stage,
                                   entries=self.entries, price_class=self.ssr.price_class,
                                   read_timeout=self.ssr.timeout, needs=needs, server_domain_ref=domain_ref,
                                   server_path=server_path, server_oac_step=server_oac_step,
                                   region=self.aws.region)

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
