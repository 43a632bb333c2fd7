"""ssr-app's distribution: the server as the default behavior, one S3 behavior per top-level public entry.

The default behavior goes to the server with caching disabled, every method,
AllViewerExceptHostHeader, the SecurityHeaders policy and, when available, the
viewer-request function that forwards the viewer host as ``x-forwarded-host``.
Every top-level entry of ``.output/public`` gets its own behavior to the assets
bucket (``/assets/*`` for a directory, ``/favicon.ico`` for a file), derived from
the build. Origins and behaviors someone else added (``tscloud cloudfront
add-origin``) are kept.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tscloud_py.aws import cloudfront_model as cfm
from tscloud_py.aws.cloudfront import CloudFront, DistributionInfo
from tscloud_py.build.nitro import PublicEntry
from tscloud_py.engine.step import Change, Outputs, StepContext, fingerprint
from tscloud_py.presets.diffing import overlay, subset_diff
from tscloud_py.presets.naming import distribution_comment, legacy_distribution_comment, tag_dict
from tscloud_py.presets.site_steps import DistributionStepBase

SERVER_ORIGIN_ID = "server"
ASSETS_ORIGIN_ID = "assets"
OUR_ORIGINS = (SERVER_ORIGIN_ID, ASSETS_ORIGIN_ID)
MAX_ORIGIN_READ_TIMEOUT = 60  # the default quota; higher needs a quota increase


@dataclass(frozen=True)
class ServerOrigin:
    domain: str
    path: str = ""
    oac_id: str | None = None  # a Lambda OAC for a Function URL; none for API Gateway
    read_timeout: int = 60


def server_origin(origin: ServerOrigin) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Id": SERVER_ORIGIN_ID,
        "DomainName": origin.domain,
        "OriginPath": origin.path,
        "CustomOriginConfig": {
            "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": max(1, min(origin.read_timeout, MAX_ORIGIN_READ_TIMEOUT)),
            "OriginKeepaliveTimeout": 5,
        },
    }
    if origin.oac_id:
        item["OriginAccessControlId"] = origin.oac_id
    return item


def default_behavior(function_arn: str | None) -> dict[str, Any]:
    functions: dict[str, Any] = {"Quantity": 0}
    if function_arn:
        functions = {"Quantity": 1, "Items": [{"EventType": "viewer-request", "FunctionARN": function_arn}]}
    return {
        "TargetOriginId": SERVER_ORIGIN_ID,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {"Quantity": len(cfm.ALL_METHODS), "Items": list(cfm.ALL_METHODS),
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": True,
        "CachePolicyId": cfm.CACHING_DISABLED,
        "OriginRequestPolicyId": cfm.ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST,
        "ResponseHeadersPolicyId": cfm.RESPONSE_HEADERS_SECURITY,
        "FunctionAssociations": functions,
    }


def asset_behavior(entry: PublicEntry) -> dict[str, Any]:
    return {
        "PathPattern": entry.path_pattern,
        "TargetOriginId": ASSETS_ORIGIN_ID,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": True,
        "CachePolicyId": cfm.CACHING_OPTIMIZED,
        "ResponseHeadersPolicyId": cfm.RESPONSE_HEADERS_SECURITY,
    }


def ssr_distribution_config(*, comment: str, server: ServerOrigin, assets_domain: str, assets_oac_id: str,
                            entries: list[PublicEntry], function_arn: str | None, price_class: str,
                            current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The managed part of the DistributionConfig; origins/behaviors of others in ``current`` are kept."""
    current = current or {}
    foreign_origins = [o for o in current.get("Origins", {}).get("Items", []) or [] if o["Id"] not in OUR_ORIGINS]
    foreign_behaviors = [b for b in current.get("CacheBehaviors", {}).get("Items", []) or []
                         if b["TargetOriginId"] not in OUR_ORIGINS]
    origins = [server_origin(server), cfm.s3_origin(ASSETS_ORIGIN_ID, assets_domain, assets_oac_id), *foreign_origins]
    behaviors = [asset_behavior(e) for e in entries] + foreign_behaviors
    return {
        "Comment": comment,
        "Enabled": True,
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "PriceClass": price_class,
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": default_behavior(function_arn),
        "CacheBehaviors": {"Quantity": len(behaviors), "Items": behaviors} if behaviors else {"Quantity": 0},
    }


def config_diff(wanted: dict[str, Any], actual: dict[str, Any]) -> list[Change]:
    """``subset_diff`` with origins matched by id.

    moto drops ``OriginAccessControlId`` on custom origins; AWS always returns the key (empty when
    unset). So a key that is missing altogether is an emulator gap, not drift, and is not compared.
    """
    changes = subset_diff({k: v for k, v in wanted.items() if k != "Origins"}, actual)
    theirs = {o["Id"]: o for o in actual.get("Origins", {}).get("Items", []) or []}
    ours = wanted["Origins"]["Items"]
    if [o["Id"] for o in ours] != [o["Id"] for o in actual.get("Origins", {}).get("Items", []) or []]:
        changes.append(Change("Origins", sorted(theirs), [o["Id"] for o in ours]))
    for origin in ours:
        have = theirs.get(origin["Id"])
        if have is None:
            continue
        compare = dict(origin)
        if "OriginAccessControlId" not in have and "CustomOriginConfig" in origin:
            compare.pop("OriginAccessControlId", None)
        changes.extend(subset_diff(compare, have, f"Origins.{origin['Id']}"))
    return changes


def merge_config(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The live config with our managed keys written over it (behaviors overlaid, so extra fields survive)."""
    merged = copy.deepcopy(current)
    for key, value in wanted.items():
        if key == "DefaultCacheBehavior":
            merged[key] = overlay(current.get(key, {}), value)
        else:
            merged[key] = value
    return merged


class SsrDistributionStep(DistributionStepBase):
    kind = "CloudFront distribution"

    def __init__(self, step_id: str, cloudfront: CloudFront, *, app: str, stage: str, entries: list[PublicEntry],
                 price_class: str, read_timeout: int, needs: tuple[str, ...], server_domain_ref: tuple[str, str],
                 server_path: str = "", server_oac_step: str | None = "server-oac",
                 edge_function_step: str | None = "edge-function", region: str = "us-east-1") -> None:
        self.id, self.cloudfront = step_id, cloudfront
        self.app, self.stage = app, stage
        self.entries, self.price_class, self.read_timeout = entries, price_class, read_timeout
        self.needs = needs
        self.server_domain_ref, self.server_path = server_domain_ref, server_path
        self.server_oac_step, self.edge_function_step = server_oac_step, edge_function_step
        self.comment = distribution_comment(app, stage, region, step_id)
        self.legacy_comment = legacy_distribution_comment(app, stage, step_id)

    def wanted(self, ctx: StepContext, current: dict[str, Any] | None = None) -> dict[str, Any]:
        server = ServerOrigin(
            domain=ctx.output(*self.server_domain_ref), path=self.server_path,
            oac_id=ctx.output(self.server_oac_step, "oac_id") if self.server_oac_step else None,
            read_timeout=self.read_timeout)
        function_arn = ctx.output(self.edge_function_step, "function_arn") if self.edge_function_step else None
        # A distribution adopted under its pre-region Comment keeps it: renaming would be a write.
        comment = current.get("Comment", self.comment) if current is not None else self.comment
        return ssr_distribution_config(
            comment=comment, server=server, assets_domain=ctx.output("bucket", "bucket_domain"),
            assets_oac_id=ctx.output("oac", "oac_id"), entries=self.entries, function_arn=function_arn,
            price_class=self.price_class, current=current)

    def read(self, ctx: StepContext) -> DistributionInfo | None:
        found = self.cloudfront.find_distributions_by_comment([self.comment, self.legacy_comment])
        if self.comment in found:
            return self.cloudfront.get_distribution(found[self.comment]["Id"], cached=True)
        if self.legacy_comment not in found:
            return None
        # Made before the Comment named the region: ours only if it serves this region's assets bucket.
        legacy = self.cloudfront.get_distribution(found[self.legacy_comment]["Id"], cached=True)
        assets = ctx.output("bucket", "bucket_domain")
        return legacy if any(o.get("DomainName") == assets
                             for o in legacy.config.get("Origins", {}).get("Items", [])) else None

    def diff(self, ctx: StepContext, observed: DistributionInfo | None) -> list[Change]:
        if observed is None:
            patterns = ", ".join(e.path_pattern for e in self.entries) or "none"
            return [Change(f"create distribution: default -> server (no cache, all methods, x-forwarded-host); "
                           f"assets -> S3 via OAC: {patterns}")]
        return config_diff(self.wanted(ctx, observed.config), observed.config)

    def apply(self, ctx: StepContext, observed: DistributionInfo | None) -> Outputs:
        if observed is None:
            wanted = self.wanted(ctx)
            config = {**wanted, "CallerReference": f"{self.app}-{self.stage}-{self.id}-{fingerprint(wanted)}",
                      "DefaultRootObject": "", "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
                      "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}}}
            info = self.cloudfront.create_distribution(config, tag_dict(self.app, self.stage, self.id))
        else:
            info = observed
            self.cloudfront.update_with_retry(
                observed.id, lambda current: merge_config(current, self.wanted(ctx, current)), notify=ctx.log)
        self.cloudfront.wait_deployed(info.id, progress=ctx.progress(), clock=ctx.clock)
        return self.outputs(ctx, info)

