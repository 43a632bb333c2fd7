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
from tscloud_py.engine.step import Outputs, Step, StepContext
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.steps.site import (
    BucketPolicyStep,
    BucketStep,
    OriginAccessControlStep,
    SiteDistributionStep,
    legacy_distribution_uses_oac,
)
from tscloud_py.presets.steps.upload import InvalidationStep, UploadStep
from tscloud_py.presets.steps.web_acl import web_acl_step


def site_steps(preset: Preset, site: SiteConfig) -> list[Step]:
    """The static-site step graph; other presets that serve a site reuse it."""
    config, aws, names = preset.config, preset.aws, preset.names
    s3 = S3(aws)
    cloudfront = CloudFront(aws)

    def bucket_name() -> str:
        return names.bucket(aws.account_id())

    def legacy_oac_is_ours(ctx: StepContext, oac: dict[str, Any]) -> bool:
        return legacy_distribution_uses_oac(cloudfront, names.legacy_distribution_comment("distribution"),
                                            bucket_name(), oac)

    bucket = BucketStep("bucket", s3, bucket_name, names, retain=site.retain)
    oac = OriginAccessControlStep("oac", cloudfront, names.regional("site"), legacy_name=names.legacy("site"),
                                  legacy_is_ours=legacy_oac_is_ours)
    steps: list[Step] = [bucket, oac]

    certificate = provider = None
    if site.domain:
        from tscloud_py.aws.acm import Acm
        from tscloud_py.dns import get_provider
        from tscloud_py.presets.steps.common import CertificateStep

        provider = get_provider(config.dns, aws)
        certificate = CertificateStep("certificate", Acm(aws, "us-east-1"), provider, [site.domain], names)
        steps.append(certificate)

    distribution_needs = ["bucket", "oac"]
    if certificate:
        distribution_needs.append("certificate")
    web_acl = web_acl_step(config, aws, names)
    if web_acl:
        steps.append(web_acl)
        distribution_needs.append("web-acl")
    distribution = SiteDistributionStep(
        "distribution", cloudfront, names, index=site.index, spa=site.spa, price_class=site.price_class,
        domain=site.domain, needs=distribution_needs,
        bucket_domain=bucket.output("bucket_domain"), oac_id=oac.output("oac_id"),
        certificate_arn=certificate.output("certificate_arn") if certificate else None,
        web_acl_arn=web_acl.output("web_acl_arn") if web_acl else None)
    upload = UploadStep("upload", s3, site.resolved_dir(config.base_dir), needs=["bucket"],
                        bucket=bucket.output("bucket"), include=tuple(site.include),
                        concurrency=preset.options.upload_concurrency,
                        hash_cache=config.base_dir / ".tscloud" / "cache",
                        walked=lambda: preset.checked_tree(site.resolved_dir(config.base_dir),
                                                           include=tuple(site.include)))
    steps += [
        distribution,
        BucketPolicyStep("bucket-policy", s3, needs=["bucket", "distribution"], bucket=bucket.output("bucket"),
                         bucket_arn=bucket.output("bucket_arn"),
                         distribution_arns=[distribution.output("distribution_arn")]),
        upload,
        # After the bucket policy too: before it, CloudFront cannot read what the invalidation refreshes.
        InvalidationStep("invalidation", cloudfront, names, needs=["upload", "distribution", "bucket-policy"],
                         upload=upload, distribution_id=distribution.output("distribution_id"), index=site.index,
                         wait=preset.options.wait_invalidation),
    ]

    if site.domain and provider:
        from tscloud_py.presets.steps.common import DnsRecordStep

        steps.append(DnsRecordStep("dns", provider, site.domain,
                                   distribution.output("distribution_domain"), record_type="ALIAS",
                                   alias_zone_id=CLOUDFRONT_HOSTED_ZONE_ID, needs=["distribution"]))
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

    def preflight(self) -> None:
        if self.site.domain:
            self.check_dns(self.site.domain)

    def steps(self) -> list[Step]:
        steps = site_steps(self, self.site)
        if self.config.alerts is None:
            return steps  # nothing to watch: the alarm steps' modules are not even loaded

        from tscloud_py.presets.steps.alarm_catalogue import watched
        from tscloud_py.presets.steps.alarms import alert_steps

        distribution = next(s for s in steps if s.id == "distribution")
        return steps + alert_steps(self.names, self.config.alerts, self.aws, [
            watched("distribution", "cdn", distribution_id=distribution.output("distribution_id"))])

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        dist = step_outputs["distribution"]
        url = f"https://{self.site.domain}" if self.site.domain else f"https://{dist['distribution_domain']}"
        return {
            "bucket": step_outputs["bucket"]["bucket"],
            "distribution_id": dist["distribution_id"],
            "distribution_domain": dist["distribution_domain"],
            "url": url,
        }
