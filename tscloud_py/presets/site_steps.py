"""Steps for a private S3 bucket served through CloudFront with OAC.

Used by the static-site preset, and reused by the presets that also serve
static assets (fullstack-app's [site], ssr-app's assets).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tscloud_py.aws import cloudfront_model as cfm
from tscloud_py.aws.cloudfront import CloudFront, DistributionInfo
from tscloud_py.aws.s3 import BLOCK_ALL, S3, BucketState
from tscloud_py.engine.step import Change, Outputs, Step, StepContext, fingerprint
from tscloud_py.presets.diffing import canonical_policy, subset_diff
from tscloud_py.presets.naming import distribution_comment, legacy_distribution_comment, tag_dict

SITE_ORIGIN_ID = "s3-site"


class BucketStep(Step):
    """A private bucket: Block Public Access, SSE-S3, owner-enforced, tagged."""

    kind = "S3 bucket"

    def __init__(self, step_id: str, s3: S3, name: Callable[[], str], *, app: str, stage: str,
                 retain: bool = False) -> None:
        self.id = step_id
        self.s3 = s3
        self._name = name
        self.app, self.stage = app, stage
        self.retain = retain

    @property
    def name(self) -> str:
        return self._name()

    def wanted(self, ctx: StepContext) -> Any:
        return {"name": self.name, "tags": self.tags}

    @property
    def tags(self) -> dict[str, str]:
        return tag_dict(self.app, self.stage, self.id)

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

    def wanted(self, ctx: StepContext) -> Any:
        return {"name": self.name, "type": self.origin_type}

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
    origins = cloudfront.get_config(summary["Id"])[0].get("Origins", {}).get("Items", [])
    return (any(o.get("DomainName", "").startswith(f"{bucket}.") for o in origins)
            and any(o.get("OriginAccessControlId") == oac["Id"] for o in origins))


def site_distribution_config(*, comment: str, bucket_domain: str, oac_id: str, index: str, spa: bool,
                             price_class: str, aliases: list[str], certificate_arn: str | None) -> dict[str, Any]:
    """The parts of a static site's DistributionConfig that tscloud manages."""
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
    return {
        "Comment": comment,
        "Enabled": True,
        "DefaultRootObject": index,
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "PriceClass": price_class,
        "Aliases": {"Quantity": len(aliases), "Items": aliases} if aliases else {"Quantity": 0},
        "Origins": {"Quantity": 1, "Items": [cfm.s3_origin(SITE_ORIGIN_ID, bucket_domain, oac_id)]},
        "DefaultCacheBehavior": {
            "TargetOriginId": SITE_ORIGIN_ID,
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "Compress": True,
            "CachePolicyId": cfm.CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId": cfm.RESPONSE_HEADERS_SECURITY,
        },
        "CustomErrorResponses": {"Quantity": len(errors), "Items": errors} if errors else {"Quantity": 0},
        "ViewerCertificate": viewer_cert,
    }


class DistributionStepBase(Step):
    """What every distribution step shares: its outputs, and a destroy that disables, waits, deletes."""

    kind = "CloudFront distribution"
    cloudfront: CloudFront

    def outputs(self, ctx: StepContext, observed: DistributionInfo) -> Outputs:
        return {"distribution_id": observed.id, "distribution_arn": observed.arn,
                "distribution_domain": observed.domain_name}

    def destroy(self, ctx: StepContext, observed: DistributionInfo) -> None:
        self.cloudfront.disable_and_delete(observed.id, progress=ctx.progress(), clock=ctx.clock)

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"disable, wait until deployed, delete distribution {observed.id}", destructive=True)]


class SiteDistributionStep(DistributionStepBase):
    """The distribution, found by its comment; updates leave origins and behaviors others added alone."""

    kind = "CloudFront distribution"

    def __init__(self, step_id: str, cloudfront: CloudFront, *, app: str, stage: str, region: str, index: str,
                 spa: bool, price_class: str, domain: str | None, needs: tuple[str, ...],
                 bucket_step: str = "bucket", oac_step: str = "oac", certificate_step: str | None = None) -> None:
        self.id = step_id
        self.cloudfront = cloudfront
        self.app, self.stage = app, stage
        self.index, self.spa, self.price_class, self.domain = index, spa, price_class, domain
        self.needs = needs
        self.bucket_step, self.oac_step, self.certificate_step = bucket_step, oac_step, certificate_step
        self.comment = distribution_comment(app, stage, region, step_id)
        self.legacy_comment = legacy_distribution_comment(app, stage, step_id)

    def wanted(self, ctx: StepContext, observed: DistributionInfo | None = None) -> dict[str, Any]:
        return site_distribution_config(
            # A distribution adopted under its pre-region Comment keeps it: renaming would be a write.
            comment=observed.config.get("Comment", self.comment) if observed is not None else self.comment,
            bucket_domain=ctx.output(self.bucket_step, "bucket_domain"),
            oac_id=ctx.output(self.oac_step, "oac_id"),
            index=self.index, spa=self.spa, price_class=self.price_class,
            aliases=[self.domain] if self.domain else [],
            certificate_arn=ctx.output(self.certificate_step, "certificate_arn") if self.certificate_step else None,
        )

    def read(self, ctx: StepContext) -> DistributionInfo | None:
        found = self.cloudfront.find_distributions_by_comment([self.comment, self.legacy_comment])
        if self.comment in found:
            return self.cloudfront.get_distribution(found[self.comment]["Id"], cached=True)
        if self.legacy_comment not in found:
            return None
        # Made before the Comment named the region: ours only if it serves this region's bucket.
        legacy = self.cloudfront.get_distribution(found[self.legacy_comment]["Id"], cached=True)
        bucket_domain = ctx.output(self.bucket_step, "bucket_domain")
        origins = legacy.config.get("Origins", {}).get("Items", [])
        return legacy if any(o.get("DomainName") == bucket_domain for o in origins) else None

    def diff(self, ctx: StepContext, observed: DistributionInfo | None) -> list[Change]:
        wanted = self.wanted(ctx, observed)
        if observed is None:
            return [Change(f"create distribution ({'SPA, ' if self.spa else ''}OAC, HTTP/2+3, "
                           "redirect-to-https, SecurityHeaders)")]
        return _managed_diff(wanted, observed.config)

    def apply(self, ctx: StepContext, observed: DistributionInfo | None) -> Outputs:
        wanted = self.wanted(ctx, observed)
        if observed is None:
            config = {
                **wanted,
                "CallerReference": f"{self.app}-{self.stage}-{self.id}-{fingerprint(wanted)}",
                "Origins": wanted["Origins"],
                "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
            }
            info = self.cloudfront.create_distribution(config, tag_dict(self.app, self.stage, self.id))
        else:
            info = observed
            self.cloudfront.update_with_retry(observed.id, lambda current: merge_managed(current, wanted),
                                              notify=ctx.log)
        self.cloudfront.wait_deployed(info.id, progress=ctx.progress(), clock=ctx.clock)
        return {"distribution_id": info.id, "distribution_arn": info.arn, "distribution_domain": info.domain_name}



def _managed_diff(wanted: dict[str, Any], actual: dict[str, Any]) -> list[Change]:
    managed = {k: v for k, v in wanted.items() if k != "Origins"}
    changes = subset_diff(managed, actual)
    ours = wanted["Origins"]["Items"][0]
    theirs = {o["Id"]: o for o in actual.get("Origins", {}).get("Items", [])}
    if ours["Id"] not in theirs:
        changes.append(Change(f"Origins.{ours['Id']}", None, ours["DomainName"]))
    else:
        changes.extend(subset_diff(ours, theirs[ours["Id"]], f"Origins.{ours['Id']}"))
    return changes


def merge_managed(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The live config with our managed fields written over it; other origins and behaviors survive."""
    merged = json.loads(json.dumps(current, default=str))
    for key, value in wanted.items():
        if key == "Origins":
            continue
        merged[key] = value
    ours = wanted["Origins"]["Items"][0]
    items: list[dict[str, Any]] = list(merged.get("Origins", {}).get("Items", []) or [])
    for i, origin in enumerate(items):
        if origin["Id"] == ours["Id"]:
            items[i] = {**origin, **ours}  # in place: origin order is part of the config
            break
    else:
        items.insert(0, ours)
    merged["Origins"] = {"Quantity": len(items), "Items": items}
    return merged


class BucketPolicyStep(Step):
    """Only this distribution (OAC, AWS:SourceArn) may read; every non-TLS request is denied."""

    kind = "S3 bucket policy"

    def __init__(self, step_id: str, s3: S3, *, needs: tuple[str, ...], bucket_step: str = "bucket",
                 distribution_steps: tuple[str, ...] = ("distribution",)) -> None:
        self.id = step_id
        self.s3 = s3
        self.needs = needs
        self.bucket_step = bucket_step
        self.distribution_steps = distribution_steps

    def wanted(self, ctx: StepContext) -> dict[str, Any]:
        bucket_arn = ctx.output(self.bucket_step, "bucket_arn")
        sources = [ctx.output(s, "distribution_arn") for s in self.distribution_steps]
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
        return self.s3.get_policy(ctx.output(self.bucket_step, "bucket"))

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        wanted = self.wanted(ctx)
        if observed is None:
            return [Change("put policy: OAC read for this distribution only; deny non-TLS")]
        if canonical_policy(observed) != canonical_policy(wanted):
            return [Change("policy", "differs", "OAC read for this distribution only; deny non-TLS")]
        return []

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        self.s3.put_policy(ctx.output(self.bucket_step, "bucket"), self.wanted(ctx))
        return {}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.s3.delete_policy(ctx.output(self.bucket_step, "bucket"))

