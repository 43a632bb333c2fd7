"""Steps for a private S3 bucket served through CloudFront with OAC.

Used by the static-site preset, and reused by the presets that also serve
static assets (fullstack-app's [site], ssr-app's assets).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tscloud_py.aws.cloudfront import model as cfm
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.s3 import BLOCK_ALL, S3, BucketState
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.diffing import canonical_policy
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.distribution import DistributionStep

SITE_ORIGIN_ID = "s3-site"


class BucketStep(Step):
    """A private bucket: Block Public Access, SSE-S3, owner-enforced, tagged."""

    kind = "S3 bucket"
    provides = frozenset({"bucket", "bucket_arn", "bucket_domain"})

    def __init__(self, step_id: str, s3: S3, name: Callable[[], str], names: Names, *, retain: bool = False) -> None:
        self.id = step_id
        self.s3 = s3
        self._name = name
        self.names = names
        self.retain = retain

    @property
    def name(self) -> str:
        return self._name()

    @property
    def tags(self) -> dict[str, str]:
        return self.names.tags(self.id)

    def read(self, ctx: StepContext) -> BucketState | None:
        return self.s3.describe_bucket(self.name)

    def diff(self, ctx: StepContext, observed: BucketState | None) -> list[Change]:
        if observed is None:
            return [Change(f"create bucket {self.name} (private, Block Public Access, SSE-S3)")]
        changes = []
        if observed.public_access_block != BLOCK_ALL:
            changes.append(Change("public_access_block", observed.public_access_block, BLOCK_ALL))
        if observed.encryption is None:
            changes.append(Change("encryption", None, "AES256"))
        if observed.ownership != "BucketOwnerEnforced":
            changes.append(Change("ownership", observed.ownership, "BucketOwnerEnforced"))
        missing = {k: v for k, v in self.tags.items() if observed.tags.get(k) != v}
        if missing:
            changes.append(Change("tags", {k: observed.tags.get(k) for k in missing}, missing))
        return changes

    def apply(self, ctx: StepContext, observed: BucketState | None) -> Outputs:
        if observed is None:
            self.s3.create_bucket(self.name)
        if observed is None or observed.public_access_block != BLOCK_ALL:
            self.s3.block_public_access(self.name)
        if observed is None or observed.encryption is None:
            self.s3.enable_default_encryption(self.name)
        if observed is not None and observed.ownership != "BucketOwnerEnforced":
            self.s3.enforce_bucket_owner(self.name)
        if observed is None or any(observed.tags.get(k) != v for k, v in self.tags.items()):
            merged = {**(observed.tags if observed else {}), **self.tags}
            self.s3.put_tags(self.name, merged)
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"bucket": self.name, "bucket_arn": f"arn:aws:s3:::{self.name}",
                "bucket_domain": self.s3.regional_domain(self.name)}

    def destroy(self, ctx: StepContext, observed: BucketState) -> str | None:
        if self.retain:
            ctx.log(f"retain = true: keeping bucket {self.name}")
            return "kept"
        removed = self.s3.empty_and_delete(self.name)
        ctx.log(f"emptied ({removed} objects) and deleted {self.name}")
        return None

    def destroy_changes(self, observed: Any) -> list[Change]:
        if self.retain:
            return [Change("kept (retain = true)")]
        return [Change(f"empty and delete bucket {self.name}", destructive=True)]


class OriginAccessControlStep(Step):
    kind = "CloudFront OAC"
    provides = frozenset({"oac_id"})

    def __init__(self, step_id: str, cloudfront: CloudFront, name: str, origin_type: str = "s3", *,
                 legacy_name: str | None = None,
                 legacy_is_ours: Callable[[StepContext, dict[str, Any]], bool] | None = None) -> None:
        self.id = step_id
        self.cloudfront = cloudfront
        self.name = name
        self.origin_type = origin_type
        # An OAC made before its name carried the region: adopted (never renamed) when the journal
        # recorded it, or ``legacy_is_ours`` shows this region's deployment uses it.
        self.legacy_name = legacy_name
        self.legacy_is_ours = legacy_is_ours

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        names = [self.name] + ([self.legacy_name] if self.legacy_name else [])
        found = self.cloudfront.find_oacs(names)
        if self.name in found or self.legacy_name is None:
            return found.get(self.name)
        legacy = found.get(self.legacy_name)
        if legacy is None:
            return None
        recorded = ctx.previous.get(self.id, {}).get("oac_id") == legacy["Id"]
        return legacy if recorded or (self.legacy_is_ours and self.legacy_is_ours(ctx, legacy)) else None

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            return [Change(f"create origin access control {self.name} ({self.origin_type}, sigv4 always)")]
        return []

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        oac_id = self.cloudfront.create_oac(self.name, self.origin_type, "managed by tscloud")
        return {"oac_id": oac_id}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"oac_id": observed["Id"]}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.cloudfront.delete_oac(observed["Id"])


def legacy_distribution_uses_oac(cloudfront: CloudFront, legacy_comment: str, bucket: str,
                                 oac: dict[str, Any]) -> bool:
    """Whether a pre-region OAC belongs to this region: the pre-region distribution serving this region's
    bucket (whose name hashes the region in) signs one of its origins with it."""
    summary = cloudfront.find_distribution_by_comment(legacy_comment)
    if summary is None:
        return False
    origins = cfm.items_of(cloudfront.get_config(summary["Id"])[0].get("Origins"))
    return (any(o.get("DomainName", "").startswith(f"{bucket}.") for o in origins)
            and any(o.get("OriginAccessControlId") == oac["Id"] for o in origins))


def site_owned(*, comment: str, bucket_domain: str, oac_id: str, index: str, spa: bool, price_class: str,
               aliases: list[str], certificate_arn: str | None) -> cfm.Owned:
    """What tscloud manages in a static site's distribution."""
    viewer_cert: dict[str, Any]
    if certificate_arn:
        viewer_cert = {"ACMCertificateArn": certificate_arn, "SSLSupportMethod": "sni-only",
                       "MinimumProtocolVersion": "TLSv1.2_2021", "CloudFrontDefaultCertificate": False}
    else:
        viewer_cert = {"CloudFrontDefaultCertificate": True}
    errors: list[dict[str, Any]] = []
    if spa:
        errors = [{"ErrorCode": code, "ResponsePagePath": f"/{index}", "ResponseCode": "200",
                   "ErrorCachingMinTTL": 0} for code in (403, 404)]
    return cfm.Owned(
        settings={
            "Comment": comment,
            "Enabled": True,
            "DefaultRootObject": index,
            "HttpVersion": "http2and3",
            "IsIPV6Enabled": True,
            "PriceClass": price_class,
            "Aliases": cfm.list_api(aliases),
            "CustomErrorResponses": cfm.list_api(errors),
            "ViewerCertificate": viewer_cert,
        },
        origins=(cfm.S3Origin(SITE_ORIGIN_ID, bucket_domain, oac_id),),
        default=cfm.Route(SITE_ORIGIN_ID, cfm.Behavior(
            allowed_methods=cfm.READ_METHODS, cache_policy_id=cfm.CACHING_OPTIMIZED,
            origin_request_policy_id=None, response_headers_policy_id=cfm.RESPONSE_HEADERS_SECURITY)),
    )


class SiteDistributionStep(DistributionStep):
    """The static site's distribution: the bucket through OAC as the default behavior."""

    def __init__(self, step_id: str, cloudfront: CloudFront, names: Names, *, index: str, spa: bool,
                 price_class: str, domain: str | None, needs: Sequence[str], bucket_domain: Ref[str],
                 oac_id: Ref[str], certificate_arn: Ref[str] | None, web_acl_arn: Ref[str] | None = None) -> None:
        super().__init__(step_id, cloudfront, names, needs=needs, bucket_domain=bucket_domain,
                         web_acl_arn=web_acl_arn)
        self.index, self.spa, self.price_class, self.domain = index, spa, price_class, domain
        self.oac_id, self.certificate_arn = oac_id, certificate_arn

    def owned(self, ctx: StepContext, comment: str) -> cfm.Owned:
        return site_owned(
            comment=comment,
            bucket_domain=ctx.get(self.bucket_domain),
            oac_id=ctx.get(self.oac_id),
            index=self.index, spa=self.spa, price_class=self.price_class,
            aliases=[self.domain] if self.domain else [],
            certificate_arn=ctx.get(self.certificate_arn) if self.certificate_arn else None,
        )

    def create_summary(self) -> str:
        return f"create distribution ({'SPA, ' if self.spa else ''}OAC, HTTP/2+3, redirect-to-https, SecurityHeaders)"


class BucketPolicyStep(Step):
    """Only this distribution (OAC, AWS:SourceArn) may read; every non-TLS request is denied."""

    kind = "S3 bucket policy"

    def __init__(self, step_id: str, s3: S3, *, needs: Sequence[str], bucket: Ref[str], bucket_arn: Ref[str],
                 distribution_arns: Sequence[Ref[str]]) -> None:
        self.id = step_id
        self.s3 = s3
        self.needs = tuple(needs)
        self.bucket, self.bucket_arn = bucket, bucket_arn
        self.distribution_arns = tuple(distribution_arns)

    def wanted(self, ctx: StepContext) -> dict[str, Any]:
        bucket_arn = ctx.get(self.bucket_arn)
        sources = [ctx.get(arn) for arn in self.distribution_arns]
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCloudFrontOAC",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": sources[0] if len(sources) == 1 else sources}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        return self.s3.get_policy(ctx.get(self.bucket))

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        wanted = self.wanted(ctx)
        if observed is None:
            return [Change("put policy: OAC read for this distribution only; deny non-TLS")]
        if canonical_policy(observed) != canonical_policy(wanted):
            return [Change("policy", "differs", "OAC read for this distribution only; deny non-TLS")]
        return []

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        self.s3.put_policy(ctx.get(self.bucket), self.wanted(ctx))
        return {}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.s3.delete_policy(ctx.get(self.bucket))

