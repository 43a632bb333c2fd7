"""The CloudFront distribution model as data: one merge, one comparator with CloudFront's semantics."""

from __future__ import annotations

import copy
from typing import Any

from tscloud_py.aws.cloudfront.model import (
    CACHING_OPTIMIZED,
    READ_METHODS,
    Behavior,
    CustomOrigin,
    Owned,
    Route,
    S3Origin,
    config_changes,
    list_api,
    merge,
)

SITE = S3Origin("site", "b.s3.us-east-1.amazonaws.com", "OAC1")
API = CustomOrigin("api", "alb.example.com")
ASSETS = Behavior("/assets/*", allowed_methods=READ_METHODS, cache_policy_id=CACHING_OPTIMIZED,
                  origin_request_policy_id=None)


def live() -> dict[str, Any]:
    """A config as CloudFront returns it: ours (site, /assets/*) and someone else's (api, /api/*)."""
    return {
        "Comment": "c", "Enabled": True, "PriceClass": "PriceClass_100",
        "Aliases": list_api(["a.example.com", "b.example.com"]),
        "Origins": list_api([SITE.to_api(), {**API.to_api(), "OriginShield": {"Enabled": False}}]),
        "DefaultCacheBehavior": Behavior(compress=False).to_api("site"),
        "CacheBehaviors": list_api([Behavior("/api/*").to_api("api"),
                                    {**ASSETS.to_api("site"), "RealtimeLogConfigArn": ""}]),
        "OriginGroups": list_api([
            {"Id": "g1", "Members": list_api([{"OriginId": "site"}, {"OriginId": "api"}])},
            {"Id": "g2", "Members": list_api([{"OriginId": "api"}])}]),
        "CustomErrorResponses": list_api([{"ErrorCode": 403, "ResponseCode": "200", "ErrorCachingMinTTL": 0},
                                          {"ErrorCode": 404, "ResponseCode": "200", "ErrorCachingMinTTL": 0}]),
    }


def ours(**settings: Any) -> Owned:
    return Owned(settings={"Comment": "c", **settings}, origins=(SITE,), routes=(Route("site", ASSETS),),
                 default=Route("site", Behavior(compress=False)))


def reversed_items(node: dict[str, Any]) -> dict[str, Any]:
    return {**node, "Items": list(reversed(node["Items"]))}


def test_a_merge_that_changes_nothing_returns_the_live_config() -> None:
    cfg = live()
    assert merge(cfg, ours()) == cfg and config_changes(cfg, merge(cfg, ours())) == []


def test_reordering_a_set_is_no_difference() -> None:
    cfg = live()
    for key in ("Aliases", "Origins", "CustomErrorResponses", "OriginGroups"):
        assert config_changes(cfg, {key: reversed_items(cfg[key])}) == [], key
    methods = cfg["DefaultCacheBehavior"]["AllowedMethods"]
    assert config_changes(cfg, {"DefaultCacheBehavior": {"AllowedMethods": reversed_items(methods)}}) == []


def test_reordering_behaviors_or_an_origin_groups_members_is_a_difference() -> None:
    cfg = live()
    swapped = config_changes(cfg, {"CacheBehaviors": reversed_items(cfg["CacheBehaviors"])})
    assert [d.path for d in swapped] == ["CacheBehaviors.order"]
    assert swapped[0].old == ["/api/*", "/assets/*"] and swapped[0].new == ["/assets/*", "/api/*"]
    group = cfg["OriginGroups"]["Items"][0]
    flipped = {**cfg["OriginGroups"], "Items": [{**group, "Members": reversed_items(group["Members"])},
                                                cfg["OriginGroups"]["Items"][1]]}
    assert config_changes(cfg, {"OriginGroups": flipped})  # the primary origin changed


def test_false_and_zero_are_values_and_empty_lists_are_not() -> None:
    cfg = live()
    del cfg["DefaultCacheBehavior"]["Compress"]
    assert [d.path for d in config_changes(cfg, {"DefaultCacheBehavior": {"Compress": False}})] == [
        "DefaultCacheBehavior.Compress"]
    assert config_changes({"X": {}}, {"X": {"MinTTL": 0}}) and config_changes({"X": {}}, {"X": {"On": False}})
    assert config_changes({}, {"Aliases": {"Quantity": 0}, "Comment": "", "WebACLId": None}) == []
    assert config_changes({"Aliases": {"Quantity": 0, "Items": []}}, {"Aliases": {"Quantity": 0}}) == []
    assert config_changes({"Enabled": True}, {"Enabled": False})
    # and a merge writes False: it is not dropped as empty
    merged = merge({**live(), "DefaultCacheBehavior": {"TargetOriginId": "site"}}, ours())
    assert merged["DefaultCacheBehavior"]["Compress"] is False


def test_foreign_origins_and_behaviors_are_left_untouched() -> None:
    cfg = live()
    merged = merge(cfg, ours(PriceClass="PriceClass_All", Comment="new"))
    assert merged["Origins"]["Items"][1] == cfg["Origins"]["Items"][1]
    assert merged["CacheBehaviors"]["Items"][0] == cfg["CacheBehaviors"]["Items"][0]
    assert merged["OriginGroups"] == cfg["OriginGroups"] and merged["Aliases"] == cfg["Aliases"]
    assert [d.path for d in config_changes(cfg, merged)] == ["Comment", "PriceClass"]


def test_our_path_pattern_is_replaced_in_place() -> None:
    cfg = live()
    changed = Behavior("/assets/*", allowed_methods=READ_METHODS, cache_policy_id="custom-policy",
                       origin_request_policy_id=None)
    merged = merge(cfg, Owned(origins=(SITE,), routes=(Route("site", changed),)))
    items = merged["CacheBehaviors"]["Items"]
    assert [b["PathPattern"] for b in items] == ["/api/*", "/assets/*"]
    assert items[1]["CachePolicyId"] == "custom-policy" and items[1]["RealtimeLogConfigArn"] == ""  # theirs kept
    assert [d.path for d in config_changes(cfg, merged)] == ["CacheBehaviors./assets/*.CachePolicyId"]


def test_a_new_behavior_goes_in_front_of_a_more_general_one() -> None:
    cfg = live()
    cfg["CacheBehaviors"]["Items"].insert(0, Behavior("/img*").to_api("api"))
    cfg["CacheBehaviors"]["Quantity"] = 3
    merged = merge(cfg, Owned(routes=(Route("site", Behavior("/img/logo.png")),)))
    assert [b["PathPattern"] for b in merged["CacheBehaviors"]["Items"]] == [
        "/img/logo.png", "/img*", "/api/*", "/assets/*"]
    assert [d.path for d in config_changes(cfg, merged)] == ["CacheBehaviors./img/logo.png"]


def test_prune_removes_only_our_behaviors_that_we_no_longer_list() -> None:
    cfg = live()
    merged = merge(cfg, Owned(origins=(SITE,), routes=(), prune=True))
    assert [b["PathPattern"] for b in merged["CacheBehaviors"]["Items"]] == ["/api/*"]
    assert merge(cfg, Owned(origins=(SITE,)))["CacheBehaviors"] == cfg["CacheBehaviors"]  # without prune: kept
    assert [d.path for d in config_changes(cfg, merged)] == ["CacheBehaviors./assets/*"]


def test_an_origin_written_over_keeps_one_kind_and_unknown_keys() -> None:
    cfg = live()
    cfg["Origins"]["Items"][0]["ResponseCompletionTimeout"] = 30  # a field the model does not know
    merged = merge(cfg, Owned(origins=(CustomOrigin("site", "fn.lambda-url.us-east-1.on.aws", oac_id="L1"),)))
    site = merged["Origins"]["Items"][0]
    assert "S3OriginConfig" not in site and site["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert site["ResponseCompletionTimeout"] == 30 and site["OriginAccessControlId"] == "L1"
    legacy = {**Behavior("/x").to_api("api"), "ForwardedValues": {"QueryString": False}, "MinTTL": 0}
    cfg["CacheBehaviors"]["Items"].append(legacy)
    written = merge(cfg, Owned(routes=(Route("api", Behavior("/x", compress=False)),)))["CacheBehaviors"]["Items"]
    assert "ForwardedValues" not in written[-1] and "MinTTL" not in written[-1]  # not next to a cache policy


def test_a_merge_into_nothing_is_a_whole_config() -> None:
    merged = merge({}, ours())
    assert [o["Id"] for o in merged["Origins"]["Items"]] == ["site"]
    assert merged["DefaultCacheBehavior"]["TargetOriginId"] == "site"
    assert "PathPattern" not in merged["DefaultCacheBehavior"]
    assert [b["PathPattern"] for b in merged["CacheBehaviors"]["Items"]] == ["/assets/*"]
    assert config_changes(copy.deepcopy(merged), merged) == []
