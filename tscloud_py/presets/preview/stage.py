"""One preview stage (`tscloud preview deploy NAME`): the build under the stage's prefix of the host's
bucket, then its key in the KeyValueStore, then an invalidation of its prefix when a build it replaced
could be cached. No distribution, certificate or DNS write: the host made those once.

Steps: host (finds the host's bucket, distribution and store; never writes), upload, route, invalidation.
An ssr-app stage adds its own server (ssr-app's log group, role, function, Function URL and the host
distribution's permission to call it), uploads its build's public files, and its key names its Function
URL and public entries (``router.py``); the route is written once the server answers. Destroy deletes the
key first (the host answers 404 at once), then the prefix's objects (and an ssr-app stage's server).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.kvs import (
    MAX_KEY_BYTES,
    MAX_STORE_BYTES,
    MAX_VALUE_BYTES,
    KeyValueStores,
    StoreData,
    entry_size,
)
from tscloud_py.aws.lambda_ import Lambda
from tscloud_py.aws.s3 import S3
from tscloud_py.concurrency import together
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import ConfigError, UsageError
from tscloud_py.presets import Preset, PresetOptions
from tscloud_py.presets.naming import Names
from tscloud_py.presets.preview.common import host_names, preview_table, stage_host, stage_prefix
from tscloud_py.presets.preview.router import route_value
from tscloud_py.presets.ssr_app.preset import SsrApp
from tscloud_py.presets.ssr_app.steps import FunctionUrlStep, UrlPermissionStep
from tscloud_py.presets.steps.upload import BucketContents, InvalidationStep, UploadStep

# A build id is a content hash: the longest value a stage writes has one this long.
_BUILD_ID_ROOM = "0" * 64
# A Function URL's domain: a 32-character id, then .lambda-url.<region>.on.aws (the longest region's).
_URL_DOMAIN_ROOM = "0" * 32 + ".lambda-url.ap-southeast-5.on.aws"


@dataclass(frozen=True)
class HostInfo:
    bucket: str
    distribution_id: str
    distribution_domain: str
    distribution_arn: str
    store_arn: str


class HostStep(Step):
    """The preview host, as `preview setup` left it: read, never written, never destroyed by a stage."""

    kind = "preview host"
    provides = frozenset({"bucket", "distribution_id", "distribution_domain", "distribution_arn", "store_arn"})

    def __init__(self, step_id: str, find: Callable[[], HostInfo | None]) -> None:
        self.id, self.find = step_id, find

    def read(self, ctx: StepContext) -> HostInfo | None:
        return self.find()

    def diff(self, ctx: StepContext, observed: HostInfo | None) -> list[Change]:
        return [] if observed is not None else [Change("the preview host is missing: run `tscloud preview setup`")]

    def apply(self, ctx: StepContext, observed: HostInfo | None) -> Outputs:
        if observed is None:
            raise UsageError("preview: the preview host is missing", "run `tscloud preview setup` first")
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: HostInfo) -> Outputs:
        return {"bucket": observed.bucket, "distribution_id": observed.distribution_id,
                "distribution_domain": observed.distribution_domain, "distribution_arn": observed.distribution_arn,
                "store_arn": observed.store_arn}

    def destroy(self, ctx: StepContext, observed: Any) -> str:
        return "kept"

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change("kept: the preview host is shared by every stage")]


class StageUploadStep(UploadStep):
    """The build under the stage's prefix; destroying the stage deletes the prefix's objects."""

    has_resources = True  # the prefix's objects are the stage's: destroy reads and deletes them

    def destroy(self, ctx: StepContext, observed: BucketContents) -> None:
        bucket = ctx.get(self.bucket)
        keys = [o.key for o in self.s3.list_objects(bucket, self.prefix)]
        removed = self.s3.delete_objects(bucket, keys)
        ctx.log(f"deleted {removed} objects under {self.prefix}")

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"delete every object under {self.prefix}", destructive=True)]


class StageInvalidationStep(InvalidationStep):
    """The whole prefix, once, when the upload changed a build that may be cached (a first build cannot be)."""

    def _paths(self, ctx: StepContext) -> list[str]:
        if not ctx.get(self.previous_build_id) or not ctx.get(self.changed_paths):
            return []
        return [f"/{self.prefix}*"]


class RouteStep(Step):
    """The stage's key in the store: its host -> its prefix and build. The only write two stages share
    (a conditional one: the client re-reads the store's ETag and writes again after a conflict)."""

    kind = "KeyValueStore key"
    provides = frozenset({"key"})

    def __init__(self, step_id: str, kvs: KeyValueStores, key: str, prefix: str, *, needs: Sequence[str],
                 store_arn: Ref[str], build_id: Ref[str | None], current: Callable[[str], str | None],
                 etag: Callable[[], str | None], origin: Ref[str] | None = None,
                 assets: Sequence[str] = ()) -> None:
        self.id, self.kvs, self.key, self.prefix = step_id, kvs, key, prefix
        self.needs = tuple(needs)
        self.store_arn, self.build_id = store_arn, build_id
        # an ssr-app stage's Function URL domain and public entries
        self.origin, self.assets = origin, list(assets)
        # the key's value and the store's ETag as preflight read them a moment ago (read again when absent)
        self.current, self.etag = current, etag

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        value = self.current(ctx.get(self.store_arn))
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = {}
        return parsed if isinstance(parsed, dict) else {}

    def _wanted(self, ctx: StepContext) -> dict[str, Any]:
        wanted: dict[str, Any] = {"p": self.prefix.rstrip("/"), "b": ctx.get(self.build_id)}
        if self.origin is not None:
            wanted.update(o=ctx.get(self.origin), a=self.assets)
        return wanted

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        wanted = self._wanted(ctx)
        if observed is None:
            return [Change(f"route {self.key} -> /{wanted['p']}")]
        return [Change(k, observed.get(k), v) for k, v in wanted.items() if observed.get(k) != v]

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        wanted = self._wanted(ctx)
        value = route_value(wanted["p"], wanted["b"], int(time.time()), origin=wanted.get("o"),
                            assets=wanted.get("a"))
        data = self.kvs.put(ctx.get(self.store_arn), self.key, value, etag=self.etag(), notify=ctx.log)
        ctx.log(f"{self.key} written; the store holds {data.items} keys, {data.size} bytes")
        return {"key": self.key}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"key": self.key}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.kvs.delete_key(ctx.get(self.store_arn), self.key, notify=ctx.log)

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"delete key {self.key} (the host answers 404 at once)", destructive=True)]


class PreviewStage(Preset):
    def __init__(self, config: Config, aws: Any, options: PresetOptions | None = None, *, name: str) -> None:
        super().__init__(config, aws, options)
        self.name = name
        self.kvs = KeyValueStores(aws)
        self._values: dict[str, str | None] = {}
        self._store: StoreData | None = None

    @property
    def host_names(self) -> Names:
        return host_names(self.config, self.aws.region)

    @property
    def domain(self) -> str:
        return preview_table(self.config).domain

    @property
    def key(self) -> str:
        return stage_host(self.name, self.domain)

    @cached_property
    def host(self) -> HostInfo | None:
        """The host's bucket (by its deterministic name), distribution (by Comment) and store (by name), read
        at once."""
        names = self.host_names
        dist, store = together(
            lambda: CloudFront(self.aws).find_distribution_by_comment(names.distribution_comment("distribution")),
            lambda: self.kvs.find(names.regional("routes")))
        if dist is None or store is None:
            return None
        return HostInfo(names.bucket(self.aws.account_id()), dist["Id"], dist["DomainName"], dist["ARN"], store.arn)

    def current_value(self, store_arn: str) -> str | None:
        if store_arn not in self._values:
            self._values[store_arn] = self.kvs.get(store_arn, self.key)
        return self._values[store_arn]

    def known_etag(self) -> str | None:
        return self._store.etag if self._store else None

    @cached_property
    def ssr_app(self) -> SsrApp | None:
        """ssr-app's preset for this stage's names: its build, runtime and server steps."""
        return SsrApp(self.config, self.aws, self.options) if self.config.preset == "ssr-app" else None

    @property
    def assets(self) -> list[str]:
        """An ssr-app build's public entries as the router matches them: ``assets/`` for a directory."""
        assert self.ssr_app is not None
        return [e.name + "/" if e.is_dir else e.name for e in self.ssr_app.entries]

    def validate(self) -> None:
        preview_table(self.config)
        if self.ssr_app is not None:
            self.ssr_app.validate()
            return
        site = self.config.site
        if self.config.preset != "static-site" or site is None:
            raise ConfigError(self.config.path, "preset", "preview stages serve a static-site build ([site]) or an "
                              "ssr-app build ([ssr])")
        self.check_published("site", "dir", site.dir, allow_outside=site.allow_outside, include=site.include)
        source = site.resolved_dir(self.config.base_dir)
        if not (source / site.index).is_file():
            raise ConfigError(self.config.path, "site.dir", f"{site.index} not found in {source}; build the site first")

    def preflight(self) -> None:
        """The host exists, and the stage's key, value and the store after the write fit AWS's limits."""
        host = self.host
        if host is None:
            raise UsageError(f"preview: no preview host for {self.config.app} in {self.aws.region}",
                             "run `tscloud preview setup` first")
        key_bytes = len(self.key.encode())
        if key_bytes > MAX_KEY_BYTES:
            raise UsageError(f"preview {self.name}: the key {self.key} is {key_bytes} bytes, over the KeyValueStore "
                             f"key limit of {MAX_KEY_BYTES} bytes")
        value = route_value(stage_prefix(self.name), _BUILD_ID_ROOM, int(time.time()),
                            origin=_URL_DOMAIN_ROOM if self.ssr_app else None,
                            assets=self.assets if self.ssr_app else None)
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise UsageError(f"preview {self.name}: the value is {len(value.encode())} bytes, over the KeyValueStore "
                             f"value limit of {MAX_VALUE_BYTES} bytes")
        # The key's value now (the route step's read, asked here beside the store's size): a redeploy
        # replaces what its key already takes.
        data, old = together(lambda: self.kvs.describe(host.store_arn), lambda: self.current_value(host.store_arn))
        self._store = data
        after = data.size + entry_size(self.key, value) - (entry_size(self.key, old) if old is not None else 0)
        if after > MAX_STORE_BYTES:
            raise UsageError(f"preview {self.name}: the KeyValueStore would hold {after} bytes, over its limit of "
                             f"{MAX_STORE_BYTES} bytes (5 MB)", "remove stale stages: tscloud preview prune "
                             "--older-than 14d")
        self.checks.append(f"key value store: {data.items} keys, {data.size} of {MAX_STORE_BYTES} bytes; this "
                           f"stage adds at most {entry_size(self.key, value)}")

    def steps(self) -> list[Step]:
        prefix = stage_prefix(self.name)
        s3 = S3(self.aws)
        host = HostStep("host", lambda: self.host)
        server: list[Step] = []
        if self.ssr_app is not None:
            source, include = self.ssr_app.build_dir / "public", tuple(self.ssr_app.ssr.include)
            server = server_steps(self.ssr_app, host.output("bucket"), host.output("distribution_arn"), prefix)
        else:
            site = self.config.site
            assert site is not None  # validate() requires it
            source, include = site.resolved_dir(self.config.base_dir), tuple(site.include)
        upload = StageUploadStep("upload", s3, source, needs=["host"], bucket=host.output("bucket"), prefix=prefix,
                                 include=include, concurrency=self.options.upload_concurrency,
                                 hash_cache=self.config.base_dir / ".tscloud" / "cache")
        url = next((s for s in server if isinstance(s, FunctionUrlStep)), None)
        route = RouteStep("route", self.kvs, self.key, prefix,
                          needs=["host", "upload", *(["function-url", "server-permission"] if server else [])],
                          store_arn=host.output("store_arn"), build_id=upload.output("build_id"),
                          current=self.current_value, etag=self.known_etag,
                          origin=url.output("url_domain") if url else None, assets=self.assets if server else ())
        return [
            host, *server, upload, route,
            StageInvalidationStep("invalidation", CloudFront(self.aws), self.names,
                                  needs=["upload", "host", "route"], upload=upload,
                                  distribution_id=host.output("distribution_id"), wait=self.options.wait_invalidation),
        ]

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        host = step_outputs["host"]
        server = ({"function_name": step_outputs["function"]["function_name"],
                   "function_url": step_outputs["function-url"]["function_url"]} if self.ssr_app else {})
        return {"stage": self.name, "url": f"https://{self.key}", "prefix": stage_prefix(self.name),
                "bucket": host["bucket"], "distribution_id": host["distribution_id"], **server}


def server_steps(app: SsrApp, bucket: Ref[str], distribution_arn: Ref[str], prefix: str) -> list[Step]:
    """An ssr-app stage's own server: ssr-app's log group, role and function, an AWS_IAM Function URL, and the
    host distribution's permission to call it (the router signs with a Lambda OAC). A code zip too big to
    send inline is staged under the stage's prefix, so destroying the stage deletes it."""
    lam = Lambda(app.aws)
    log_group, role, function = app.server_steps(bucket, staging_needs=["host"], staging_prefix=prefix)
    name = function.name
    return [
        log_group, role, function,
        FunctionUrlStep("function-url", lam, name, streaming=app.streaming, needs=["function"]),
        UrlPermissionStep("server-permission", lam, name, needs=["function", "host"],
                          distribution_arn=distribution_arn),
    ]
