"""static-site: a private S3 bucket behind CloudFront with OAC, synced from a build directory.

Steps: bucket, oac, [certificate], distribution, bucket-policy, upload, invalidation, [dns].
The upload runs in parallel with the distribution (it needs only the bucket).
"""

from __future__ import annotations

from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.model import CLOUDFRONT_HOSTED_ZONE_ID
from tscloud_py.aws.s3 import S3
from tscloud_py.config.schema import SiteConfig
from tscloud_py.engine.step import Outputs, Step
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.naming import (
    legacy_distribution_comment,
    legacy_name,
    regional_name,
    short_hash,
)
from tscloud_py.presets.steps.site import (
    BucketPolicyStep,
    BucketStep,
    OriginAccessControlStep,
    SiteDistributionStep,
    legacy_distribution_uses_oac,
)
from tscloud_py.presets.steps.upload import InvalidationStep, UploadStep


def site_bucket_name(app: str, stage: str, account: str, region: str, role: str = "site") -> str:
    """Globally unique yet deterministic: the account and region are hashed in."""
    return f"{app}-{stage}-{role}-{short_hash(account, region)}"


def site_steps(preset: Preset, site: SiteConfig) -> list[Step]:
    """The static-site step graph; other presets that serve a site reuse it."""
    config, aws = preset.config, preset.aws
    app, stage = config.app, config.stage
    s3 = S3(aws)
    cloudfront = CloudFront(aws)

    def bucket() -> str:
        return site_bucket_name(app, stage, aws.account_id(), aws.region)

    steps: list[Step] = [
        BucketStep("bucket", s3, bucket,
                   app=app, stage=stage, retain=site.retain),
        OriginAccessControlStep("oac", cloudfront, regional_name(app, stage, aws.region, "site"),
                                legacy_name=legacy_name(app, stage, "site"),
                                legacy_is_ours=lambda ctx, oac: legacy_distribution_uses_oac(
                                    cloudfront, legacy_distribution_comment(app, stage, "distribution"), bucket(),
                                    oac)),
    ]
    needs: tuple[str, ...] = ("bucket", "oac")
    certificate_step = None
    if site.domain:
        from tscloud_py.aws.acm import Acm
        from tscloud_py.dns import get_provider
        from tscloud_py.presets.steps.common import CertificateStep

        provider = get_provider(config.dns, aws)
        steps.append(CertificateStep("certificate", Acm(aws, "us-east-1"), provider, [site.domain],
                                     app=app, stage=stage))
        needs += ("certificate",)
        certificate_step = "certificate"
    steps += [
        SiteDistributionStep("distribution", cloudfront, app=app, stage=stage, region=aws.region, index=site.index,
                             spa=site.spa,
                             price_class=site.price_class, domain=site.domain, needs=needs,
                             certificate_step=certificate_step),
        BucketPolicyStep("bucket-policy", s3, needs=("bucket", "distribution")),
        UploadStep("upload", s3, site.resolved_dir(config.base_dir), needs=("bucket",), include=tuple(site.include),
                   concurrency=preset.options.upload_concurrency),
        InvalidationStep("invalidation", cloudfront, app=app, stage=stage,
                         needs=("upload", "distribution", "bucket-policy"), index=site.index),
    ]
    if site.domain:
        from tscloud_py.dns import get_provider
        from tscloud_py.presets.steps.common import DnsRecordStep

        steps.append(DnsRecordStep("dns", get_provider(config.dns, aws), site.domain,
                                   ("distribution", "distribution_domain"), record_type="ALIAS",
                                   alias_zone_id=CLOUDFRONT_HOSTED_ZONE_ID, needs=("distribution",)))
    return steps


class StaticSite(Preset):

    @property
    def site(self) -> SiteConfig:
        assert self.config.site is not None  # the loader requires [site] for this preset
        return self.config.site

    def validate(self) -> None:
        self.check_published("site", "dir", self.site.dir, allow_outside=self.site.allow_outside,
                             include=self.site.include)
        source = self.site.resolved_dir(self.config.base_dir)
        if not source.is_dir():
            raise ConfigError(self.config.path, "site.dir", f"directory {source} does not exist; build the site first")
        if not (source / self.site.index).is_file():
            raise ConfigError(self.config.path, "site.index",
                              f"{self.site.index} not found in {source}; expected the site's entry page")

    def steps(self) -> list[Step]:
        return site_steps(self, self.site)

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        dist = step_outputs["distribution"]
        url = f"https://{self.site.domain}" if self.site.domain else f"https://{dist['distribution_domain']}"
        return {
            "bucket": step_outputs["bucket"]["bucket"],
            "distribution_id": dist["distribution_id"],
            "distribution_domain": dist["distribution_domain"],
            "url": url,
        }
