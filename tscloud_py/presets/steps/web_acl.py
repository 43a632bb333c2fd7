"""The stage's WAF web ACL (scope CLOUDFRONT, in us-east-1), which its distribution names by WebACLId.

Found by its deterministic name; its rules come from [waf] (``web_acl_spec``), and diff and apply both read
``WebAclSpec.differences``. A web ACL of that name not tagged for this app and stage is not adopted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.config.tables.edge import WafConfig
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import ConfigError, UsageError
from tscloud_py.presets.naming import Names

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.wafv2 import Wafv2, WebAcl, WebAclSpec
    from tscloud_py.config.schema import Config


def web_acl_name(names: Names) -> str:
    """Global like a distribution, so the region is in its name."""
    return names.regional("waf")


def web_acl_spec(names: Names, waf: WafConfig) -> WebAclSpec:
    # the WAF client's module is loaded only by a stage that has a web ACL
    from tscloud_py.aws.wafv2 import WebAclSpec

    return WebAclSpec(
        name=web_acl_name(names), mode=waf.mode, rate_limit=waf.rate_limit_per_5min,
        path_limits=tuple(sorted(waf.rate_limit_paths.items())), managed=tuple(waf.managed_rules),
        countries=tuple(waf.block_countries), description=names.description("web ACL"))


def web_acl_step(config: Config, aws: ClientFactory, names: Names) -> WebAclStep | None:
    """The "web-acl" step when the stage has a web ACL ([waf], or a production stage), else None."""
    settings = config.web_acl
    if settings is None:
        return None
    from tscloud_py.aws.wafv2 import Wafv2

    return WebAclStep("web-acl", Wafv2(aws), names, settings)


def is_our_web_acl(names: Names, arn: str | None) -> bool:
    """Whether a distribution's WebACLId is this stage's web ACL (so turning [waf] off may detach it)."""
    if not arn:
        return False
    from tscloud_py.aws.wafv2 import parse_acl_arn

    parts = parse_acl_arn(arn)
    return parts is not None and parts["name"] == web_acl_name(names)


class WebAclStep(Step):
    kind = "WAF web ACL"
    provides = frozenset({"web_acl_arn", "web_acl_name"})

    def __init__(self, step_id: str, waf: Wafv2, names: Names, settings: WafConfig) -> None:
        self.id, self.waf, self.names = step_id, waf, names
        self.spec = web_acl_spec(names, settings)

    @property
    def tags(self) -> dict[str, str]:
        return self.names.tags(self.id)

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        acl = self.waf.find(self.spec.name)
        if acl is None:
            return None
        tags = self.waf.tags(acl.arn)
        if any(tags.get(k) != v for k, v in self.names.owner_tags().items()):
            raise UsageError(f"web ACL {acl.name} exists but is not tagged for {self.names.prefix}",
                             "rename or delete it; tscloud adopts only a web ACL it tagged")
        return {"acl": acl, "tags": tags}

    def _changes(self, observed: dict[str, Any]) -> tuple[list[Change], dict[str, str]]:
        acl: WebAcl = observed["acl"]
        changes = [Change(what, old, new) for what, old, new in self.spec.differences(acl.config)]
        missing = {k: v for k, v in self.tags.items() if observed["tags"].get(k) != v}
        if missing:
            changes.append(Change("tags", {k: observed["tags"].get(k) for k in missing}, missing))
        return changes, missing

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        if observed is None:
            limits = ", ".join([f"{self.spec.rate_limit}/5min per IP",
                                *(f"{p}: {n}/5min" for p, n in self.spec.path_limits)])
            extra = f"; block {', '.join(self.spec.countries)}" if self.spec.countries else ""
            return [Change(f"create web ACL {self.spec.name} (CLOUDFRONT, {self.spec.mode} mode: {limits}; "
                           f"{len(self.spec.managed)} managed rule groups{extra})")]
        return self._changes(observed)[0]

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        if observed is None:
            acl = self.waf.create(self.spec, self.tags)
            return self.outputs(ctx, {"acl": acl})
        changes, missing = self._changes(observed)
        if any(c.field != "tags" for c in changes):
            self.waf.update(observed["acl"], self.spec)
        if missing:
            self.waf.tag(observed["acl"].arn, missing)
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        acl: WebAcl = observed["acl"]
        return {"web_acl_arn": acl.arn, "web_acl_name": acl.name}

    def destroy(self, ctx: StepContext, observed: dict[str, Any]) -> None:
        self.waf.delete(observed["acl"])

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"delete web ACL {observed['acl'].name}", destructive=True)]


def foreign_web_acl(cloudfront: CloudFront, names: Names, distribution_id: str) -> str | None:
    """The ARN of a web ACL other than this stage's that ``distribution_id`` names, if any."""
    config, _etag = cloudfront.get_config_checked(distribution_id, cached=True)
    current = str(config.get("WebACLId") or "")
    return current if current and not is_our_web_acl(names, current) else None


def check_frontend_web_acl(config: Config, aws: ClientFactory, names: Names) -> None:
    """[waf] frontend = true on a [frontend] distribution that has another web ACL: refused before any write
    (the step refuses it again should the ACL appear meanwhile)."""
    if config.frontend is None or config.waf is None or not config.waf.frontend or config.web_acl is None:
        return
    other = foreign_web_acl(CloudFront(aws), names, config.frontend.distribution_id)
    if other is not None:
        raise ConfigError(config.path, "waf.frontend",
                          f"distribution {config.frontend.distribution_id} has another web ACL ({other})",
                          "detach it first, or set waf.frontend = false to leave it as it is")


class ForeignDistributionWebAclStep(Step):
    """The stage's web ACL on a distribution tscloud does not own ([frontend], when [waf] frontend = true).

    Only its WebACLId is written, through the ETag round trip; a distribution that has another web ACL is
    refused rather than taken over, and destroy detaches only ours.
    """

    kind = "CloudFront web ACL association"

    def __init__(self, step_id: str, cloudfront: CloudFront, names: Names, *, needs: Sequence[str],
                 distribution_id: str, web_acl_arn: Ref[str]) -> None:
        self.id, self.cloudfront, self.names = step_id, cloudfront, names
        self.needs = tuple(needs)
        self.distribution_id, self.web_acl_arn = distribution_id, web_acl_arn

    def read(self, ctx: StepContext) -> dict[str, Any] | None:
        config, _etag = self.cloudfront.get_config_checked(self.distribution_id, cached=True)
        current = str(config.get("WebACLId") or "")
        return {"web_acl": current} if is_our_web_acl(self.names, current) else None

    def _refusal(self, ctx: StepContext) -> None:
        other = foreign_web_acl(self.cloudfront, self.names, self.distribution_id)
        if other is not None:
            raise UsageError(f"distribution {self.distribution_id} has another web ACL ({other})",
                             "detach it first, or set waf.frontend = false to leave it as it is")

    def diff(self, ctx: StepContext, observed: dict[str, Any] | None) -> list[Change]:
        wanted = ctx.get(self.web_acl_arn)
        if observed is not None and observed["web_acl"] == wanted:
            return []
        self._refusal(ctx)
        return [Change(f"WebACLId of {self.distribution_id}", observed["web_acl"] if observed else None, wanted)]

    def apply(self, ctx: StepContext, observed: dict[str, Any] | None) -> Outputs:
        wanted = ctx.get(self.web_acl_arn)
        if observed is None or observed["web_acl"] != wanted:
            self._refusal(ctx)

            def attach(live: dict[str, Any]) -> dict[str, Any]:
                if live.get("WebACLId") and not is_our_web_acl(self.names, live["WebACLId"]):
                    raise UsageError(f"distribution {self.distribution_id} has another web ACL ({live['WebACLId']})")
                return {**live, "WebACLId": wanted}

            self.cloudfront.update_with_retry(self.distribution_id, attach, notify=ctx.log)
            self.cloudfront.wait_deployed(self.distribution_id, progress=ctx.progress(), clock=ctx.clock)
        return self.outputs(ctx, {"web_acl": wanted})

    def outputs(self, ctx: StepContext, observed: dict[str, Any]) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: dict[str, Any]) -> None:
        def detach(live: dict[str, Any]) -> dict[str, Any]:
            return {**live, "WebACLId": ""} if is_our_web_acl(self.names, live.get("WebACLId")) else live

        update = self.cloudfront.update_with_retry(self.distribution_id, detach, notify=ctx.log)
        if update.written:
            self.cloudfront.wait_deployed(self.distribution_id, progress=ctx.progress(), clock=ctx.clock)

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"detach web ACL {observed['web_acl']} from {self.distribution_id}", destructive=True)]
