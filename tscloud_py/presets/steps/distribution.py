"""The one distribution step: found by its Comment, created from and updated to what it owns.

A subclass says what it owns (``owned``: an ``aws.cloudfront.model.Owned``) and how a create reads in a
plan; reading, diffing, creating, the ETag round trip, outputs and destroy are here. Origins and
behaviors someone else added (``tscloud cloudfront add-origin``) are left as they are. The web ACL is the
stage's ([waf]) when it has one; without, only the stage's own ACL is detached, never someone else's.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from tscloud_py.aws.cloudfront import model as cfm
from tscloud_py.aws.cloudfront.client import CloudFront, DistributionInfo
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext, fingerprint
from tscloud_py.errors import AwsError
from tscloud_py.presets.naming import Names
from tscloud_py.presets.steps.web_acl import is_our_web_acl

# What a new distribution gets beyond what its step owns (CreateDistribution requires them).
CREATE_DEFAULTS: dict[str, Any] = {
    "DefaultRootObject": "",
    "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
    "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
}


class DistributionStep(Step):
    kind = "CloudFront distribution"
    provides = frozenset({"distribution_id", "distribution_arn", "distribution_domain"})

    def __init__(self, step_id: str, cloudfront: CloudFront, names: Names, *, needs: Sequence[str],
                 bucket_domain: Ref[str], web_acl_arn: Ref[str] | None = None) -> None:
        self.id, self.cloudfront, self.names = step_id, cloudfront, names
        self.web_acl_arn = web_acl_arn
        self.needs = tuple(needs)
        # The bucket whose domain proves a pre-region distribution is this region's.
        self.bucket_domain = bucket_domain
        self.comment = names.distribution_comment(step_id)
        self.legacy_comment = names.legacy_distribution_comment(step_id)

    @abstractmethod
    def owned(self, ctx: StepContext, comment: str) -> cfm.Owned:
        """What this step manages in its distribution, named ``comment``."""

    @abstractmethod
    def create_summary(self) -> str:
        """The one line a plan shows for a create."""

    def wanted_in(self, ctx: StepContext, live: Mapping[str, Any] | None) -> dict[str, Any]:
        """``live`` (or a new distribution's config) with what we own merged in."""
        if live is None:
            wanted = cfm.merge(CREATE_DEFAULTS, self.owned(ctx, self.comment))
        else:
            # A distribution adopted under its pre-region Comment keeps it: renaming would be a write.
            wanted = cfm.merge(live, self.owned(ctx, str(live.get("Comment", self.comment))))
        if self.web_acl_arn is not None:
            wanted["WebACLId"] = ctx.get(self.web_acl_arn)
        elif live is not None and is_our_web_acl(self.names, live.get("WebACLId")):
            wanted["WebACLId"] = ""
        return wanted

    def read(self, ctx: StepContext) -> DistributionInfo | None:
        recorded = ctx.recorded("distribution_id")
        if recorded:
            # The journal's id spares the list (a round trip before the get), once the distribution it names
            # is found to carry our Comment; a hint that names nothing of ours is looked past.
            try:
                named = self.cloudfront.get_distribution(recorded, cached=True)
            except AwsError as exc:
                if exc.code != "NoSuchDistribution":
                    raise
            else:
                if named.config.get("Comment") == self.comment:
                    return named
        found = self.cloudfront.find_distributions_by_comment([self.comment, self.legacy_comment])
        if self.comment in found:
            return self.cloudfront.get_distribution(found[self.comment]["Id"], cached=True)
        if self.legacy_comment not in found:
            return None
        # Made before the Comment named the region: ours only if it serves this region's bucket.
        legacy = self.cloudfront.get_distribution(found[self.legacy_comment]["Id"], cached=True)
        bucket_domain = ctx.get(self.bucket_domain)
        origins = cfm.items_of(legacy.config.get("Origins"))
        return legacy if any(o.get("DomainName") == bucket_domain for o in origins) else None

    def diff(self, ctx: StepContext, observed: DistributionInfo | None) -> list[Change]:
        if observed is None:
            return [Change(self.create_summary())]
        return [Change(d.path, d.old, d.new)
                for d in cfm.config_changes(observed.config, self.wanted_in(ctx, observed.config))]

    def apply(self, ctx: StepContext, observed: DistributionInfo | None) -> Outputs:
        if observed is None:
            config = self.wanted_in(ctx, None)
            config["CallerReference"] = f"{self.names.prefix}-{self.id}-{fingerprint(config)}"
            info = self.cloudfront.create_distribution(config, self.names.tags(self.id))
        else:
            info = observed
            self.cloudfront.update_with_retry(observed.id, lambda current: self.wanted_in(ctx, current),
                                              notify=ctx.log)
        self.cloudfront.wait_deployed(info.id, progress=ctx.progress(), clock=ctx.clock)
        return self.outputs(ctx, info)

    def outputs(self, ctx: StepContext, observed: DistributionInfo) -> Outputs:
        return {"distribution_id": observed.id, "distribution_arn": observed.arn,
                "distribution_domain": observed.domain_name}

    def destroy(self, ctx: StepContext, observed: DistributionInfo) -> None:
        self.cloudfront.disable_and_delete(observed.id, progress=ctx.progress(), clock=ctx.clock)

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"disable, wait until deployed, delete distribution {observed.id}", destructive=True)]
