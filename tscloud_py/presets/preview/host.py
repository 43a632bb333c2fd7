"""The preview host, made once per app by `tscloud preview setup`: the bucket (a stage per prefix), one
distribution for ``*.<domain>``, the wildcard certificate and record, the KeyValueStore of routes and
the viewer-request function that reads it.

Steps: bucket, oac, certificate, routes, router, distribution, bucket-policy, dns. The bucket, OAC,
certificate, distribution, bucket policy and record are static-site's own steps; the function is the
shared viewer-request function step (ssr-app's forwards the host), given the router's code and the store.
For an ssr-app the router also picks each stage's Function URL (``router.py``), and the default behavior
is a server's: every method, nothing cached, every viewer header but Host.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tscloud_py.aws.acm import Acm
from tscloud_py.aws.cloudfront import model as cfm
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.kvs import KeyValueStores, StoreInfo
from tscloud_py.aws.cloudfront.model import CLOUDFRONT_HOSTED_ZONE_ID
from tscloud_py.aws.s3 import S3
from tscloud_py.dns import get_provider
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import UsageError
from tscloud_py.presets import Preset
from tscloud_py.presets.naming import Names
from tscloud_py.presets.preview.common import host_names, preview_table
from tscloud_py.presets.preview.router import MAX_CODE_BYTES, router_code
from tscloud_py.presets.steps.common import CertificateStep, DnsRecordStep
from tscloud_py.presets.steps.edge_function import EdgeFunctionStep
from tscloud_py.presets.steps.site import (
    BucketPolicyStep,
    BucketStep,
    OriginAccessControlStep,
    SiteDistributionStep,
)


class KeyValueStoreStep(Step):
    """The store of routes: made once, found by its name; a stage writes its own key in it."""

    kind = "CloudFront KeyValueStore"
    provides = frozenset({"store_arn", "store_id"})

    def __init__(self, step_id: str, kvs: KeyValueStores, name: str, names: Names) -> None:
        self.id, self.kvs, self.name, self.names = step_id, kvs, name, names

    def read(self, ctx: StepContext) -> StoreInfo | None:
        return self.kvs.find(self.name)

    def diff(self, ctx: StepContext, observed: StoreInfo | None) -> list[Change]:
        return [Change(f"create key value store {self.name}")] if observed is None else []

    def apply(self, ctx: StepContext, observed: StoreInfo | None) -> Outputs:
        info = observed or self.kvs.create(self.name, self.names.description("preview routes: host -> stage"))
        if info.status != "READY":
            self.kvs.wait_ready(self.name, progress=ctx.progress(), clock=ctx.clock)
        return self.outputs(ctx, info)

    def outputs(self, ctx: StepContext, observed: StoreInfo) -> Outputs:
        return {"store_arn": observed.arn, "store_id": observed.id}

    def destroy(self, ctx: StepContext, observed: StoreInfo) -> None:
        self.kvs.delete(self.name)


class PreviewDistributionStep(SiteDistributionStep):
    """static-site's distribution for ``*.<domain>``, its default behavior running the router first."""

    def __init__(self, *args: Any, router_arn: Ref[str], ssr: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.router_arn, self.ssr = router_arn, ssr

    def owned(self, ctx: StepContext, comment: str) -> cfm.Owned:
        owned = super().owned(ctx, comment)
        assert owned.default is not None
        router = (("viewer-request", ctx.get(self.router_arn)),)
        if self.ssr:
            # The router sends pages to a stage's function: every method, nothing cached (a server's answer
            # may be per viewer), every viewer header but Host (a Function URL answers to its own host).
            behavior = cfm.Behavior(response_headers_policy_id=cfm.RESPONSE_HEADERS_SECURITY, functions=router)
        else:
            behavior = replace(owned.default.behavior, functions=router)
        return replace(owned, default=cfm.Route(owned.default.origin_id, behavior))

    def create_summary(self) -> str:
        return f"create distribution for *.{self.domain} (OAC, router function, SecurityHeaders)"


class PreviewHost(Preset):
    @property
    def names(self) -> Names:
        return host_names(self.config, self.aws.region)

    @property
    def code(self) -> bytes:
        return router_code(spa=preview_table(self.config).spa, ssr=self.config.preset == "ssr-app")

    def validate(self) -> None:
        preview_table(self.config)

    def preflight(self) -> None:
        from tscloud_py.aws.session import sigv4a_available

        if len(self.code) > MAX_CODE_BYTES:
            raise UsageError(f"preview: the router function is {len(self.code)} bytes, over CloudFront Functions' "
                             f"{MAX_CODE_BYTES}-byte code limit")
        self.checks.append(f"router function: {len(self.code)} of {MAX_CODE_BYTES} bytes")
        if not self.aws.endpoint_url and not sigv4a_available():
            raise UsageError("preview: AWS signs KeyValueStore key writes with SigV4A, which botocore does only "
                             "with awscrt installed", "pip install 'botocore[crt]'")
        self.check_dns(f"*.{preview_table(self.config).domain}")

    def steps(self) -> list[Step]:
        config, aws, names = self.config, self.aws, self.names
        domain = preview_table(config).domain
        site, ssr = config.site, config.ssr if config.preset == "ssr-app" else None
        s3, cloudfront = S3(aws), CloudFront(aws)
        provider = get_provider(config.dns, aws)
        bucket = BucketStep("bucket", s3, lambda: names.bucket(aws.account_id()), names)
        oac = OriginAccessControlStep("oac", cloudfront, names.regional("site"))
        certificate = CertificateStep("certificate", Acm(aws, "us-east-1"), provider, [f"*.{domain}"], names)
        routes = KeyValueStoreStep("routes", KeyValueStores(aws), names.regional("routes"), names)
        router = EdgeFunctionStep("router", cloudfront, names.regional("router"), code=self.code,
                                  comment="tscloud: Host -> preview stage prefix", what="Host -> stage prefix",
                                  needs=["routes"], store_arn=routes.output("store_arn"))
        distribution = PreviewDistributionStep(
            "distribution", cloudfront, names, index="index.html", spa=False,
            price_class=site.price_class if site else ssr.price_class if ssr else "PriceClass_100",
            domain=f"*.{domain}", ssr=ssr is not None, needs=["bucket", "oac", "certificate", "router"], bucket_domain=bucket.output("bucket_domain"),
            oac_id=oac.output("oac_id"), certificate_arn=certificate.output("certificate_arn"),
            router_arn=router.output("function_arn"))
        return [
            bucket, oac, certificate, routes, router, distribution,
            BucketPolicyStep("bucket-policy", s3, needs=["bucket", "distribution"], bucket=bucket.output("bucket"),
                             bucket_arn=bucket.output("bucket_arn"),
                             distribution_arns=[distribution.output("distribution_arn")]),
            DnsRecordStep("dns", provider, f"*.{domain}", distribution.output("distribution_domain"),
                          record_type="ALIAS", alias_zone_id=CLOUDFRONT_HOSTED_ZONE_ID, needs=["distribution"]),
        ]

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        dist = step_outputs["distribution"]
        return {"bucket": step_outputs["bucket"]["bucket"], "distribution_id": dist["distribution_id"],
                "distribution_domain": dist["distribution_domain"], "store_arn": step_outputs["routes"]["store_arn"],
                "function_arn": step_outputs["router"]["function_arn"],
                "url": f"https://NAME.{preview_table(self.config).domain}"}
