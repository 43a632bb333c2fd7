"""Pure splice/remove of a CloudFront origin + cache behavior: properties over generated configs, placement, refusals."""

from __future__ import annotations

import copy
import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tscloud_py.aws.cloudfront.model import (
    ALL_METHODS,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST,
    Behavior,
    CustomOrigin,
    S3Origin,
    contains,
    placement_index,
)
from tscloud_py.aws.cloudfront.patterns import normalize_pattern, pattern_matches, pattern_subsumes
from tscloud_py.aws.cloudfront.splice import (
    DefaultOriginError,
    InvalidOriginError,
    Limits,
    MalformedDomainError,
    OriginIdCollisionError,
    OriginInUseError,
    PathPatternCollisionError,
    QuotaExceededError,
    ReservedPatternError,
    SpliceError,
    function_url_origin,
    mask_secrets,
    mask_value,
    remove_origin,
    render_diff,
    splice_origin,
    splice_status,
    summarize_changes,
)
from tscloud_py.errors import UsageError

SECRET = "0123456789abcdef0123456789abcdef"
ALB = "shop-dev-alb-1234567890.us-east-1.elb.amazonaws.com"
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------
ids = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
segments = st.sampled_from(["api", "v1", "img", "static", "media", "docs", "a", "b", "x-y", "_next"])
wild_segments = st.one_of(segments, st.sampled_from(["*", "*.jpg", "*.css", "v?", "a*", "?"]))


@st.composite
def path_patterns(draw: st.DrawFn) -> str:
    parts = draw(st.lists(wild_segments, min_size=1, max_size=3))
    pattern = "/" + "/".join(parts)
    if draw(st.booleans()):
        pattern += draw(st.sampled_from(["/*", "*", ".html", "/"]))
    if draw(st.integers(0, 5)) == 0:
        pattern = pattern.lstrip("/")  # CloudFront allows the leading / to be left out
    assume(normalize_pattern(pattern) != "/" and not pattern_subsumes(pattern, "/*"))
    return pattern


def headers_api(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    if not pairs:
        return {"Quantity": 0}
    return {"Quantity": len(pairs), "Items": [{"HeaderName": k, "HeaderValue": v} for k, v in pairs]}


@st.composite
def origin_dicts(draw: st.DrawFn, origin_id: str) -> dict[str, Any]:
    pairs = draw(st.lists(st.tuples(st.sampled_from(["X-Origin-Verify", "X-Env", "X-Team"]),
                                    st.text("abcdef0123456789", min_size=1, max_size=40)),
                          max_size=3, unique_by=lambda p: p[0]))
    base: dict[str, Any] = {
        "Id": origin_id,
        "DomainName": "",
        "OriginPath": draw(st.sampled_from(["", "", "/prod", "/v2"])),
        "CustomHeaders": headers_api(pairs),
    }
    if draw(st.booleans()):
        base["DomainName"] = f"{origin_id}-bucket.s3.us-east-1.amazonaws.com"
        base["S3OriginConfig"] = {"OriginAccessIdentity": ""}
        base["OriginAccessControlId"] = draw(st.sampled_from(["", "E2QWRUHAPOMQZL"]))
    else:
        base["DomainName"] = draw(st.sampled_from([ALB, "abc123.execute-api.us-east-1.amazonaws.com",
                                                   "xyz.lambda-url.us-east-1.on.aws", "media.example.com"]))
        base["CustomOriginConfig"] = {
            "HTTPPort": 80, "HTTPSPort": 443,
            "OriginProtocolPolicy": draw(st.sampled_from(["https-only", "http-only", "match-viewer"])),
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": draw(st.integers(1, 60)), "OriginKeepaliveTimeout": 5,
        }
    base.update({"ConnectionAttempts": 3, "ConnectionTimeout": 10, "OriginShield": {"Enabled": False}})
    return base


def behavior_dict(pattern: str | None, target: str, draw: st.DrawFn) -> dict[str, Any]:
    methods = draw(st.sampled_from([["HEAD", "GET"], ["HEAD", "GET", "OPTIONS"], list(ALL_METHODS)]))
    doc: dict[str, Any] = {} if pattern is None else {"PathPattern": pattern}
    doc.update({
        "TargetOriginId": target,
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "ViewerProtocolPolicy": draw(st.sampled_from(["allow-all", "redirect-to-https", "https-only"])),
        "AllowedMethods": {"Quantity": len(methods), "Items": methods,
                           "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
        "SmoothStreaming": False,
        "Compress": draw(st.booleans()),
        "LambdaFunctionAssociations": {"Quantity": 0},
        "FunctionAssociations": draw(st.sampled_from([
            {"Quantity": 0},
            {"Quantity": 1, "Items": [{"FunctionARN": "arn:aws:cloudfront::1:function/rewrite",
                                       "EventType": "viewer-request"}]}])),
        "FieldLevelEncryptionId": "",
        "CachePolicyId": draw(st.sampled_from([CACHING_OPTIMIZED, CACHING_DISABLED])),
    })
    if draw(st.booleans()):
        doc["OriginRequestPolicyId"] = ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST
    return doc


@st.composite
def distribution_configs(draw: st.DrawFn) -> dict[str, Any]:
    origin_ids = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    origins = [draw(origin_dicts(oid)) for oid in origin_ids]
    raw_patterns = draw(st.lists(path_patterns(), max_size=8))
    patterns: list[str] = []
    for p in raw_patterns:
        if normalize_pattern(p) not in {normalize_pattern(q) for q in patterns}:
            patterns.append(p)
    behaviors = [behavior_dict(p, draw(st.sampled_from(origin_ids)), draw) for p in patterns]
    errors = draw(st.lists(st.sampled_from([403, 404, 500, 502, 503]), unique=True, max_size=3))
    aliases = draw(st.lists(st.sampled_from(["www.example.com", "example.com", "shop.example.org"]),
                            unique=True, max_size=2))
    config: dict[str, Any] = {
        "CallerReference": draw(st.text("abcdef0123456789", min_size=6, max_size=12)),
        "Aliases": {"Quantity": len(aliases), "Items": aliases} if aliases else {"Quantity": 0},
        "DefaultRootObject": draw(st.sampled_from(["", "index.html"])),
        "Origins": {"Quantity": len(origins), "Items": origins},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": behavior_dict(None, draw(st.sampled_from(origin_ids)), draw),
        "CacheBehaviors": {"Quantity": len(behaviors), "Items": behaviors} if behaviors else {"Quantity": 0},
        "CustomErrorResponses": ({"Quantity": len(errors), "Items": [
            {"ErrorCode": e, "ResponsePagePath": "/index.html", "ResponseCode": "200", "ErrorCachingMinTTL": 10}
            for e in errors]} if errors else {"Quantity": 0}),
        "Comment": draw(st.text("abc xyz-", max_size=20)),
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "PriceClass": draw(st.sampled_from(["PriceClass_All", "PriceClass_100"])),
        "Enabled": draw(st.booleans()),
        "ViewerCertificate": {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1.2_2021"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": draw(st.sampled_from(["http2", "http2and3"])),
        "IsIPV6Enabled": True,
    }
    if len(origin_ids) >= 3 and draw(st.booleans()):
        members = origin_ids[1:3]
        config["OriginGroups"] = {"Quantity": 1, "Items": [{
            "Id": "failover",
            "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [500, 502]}},
            "Members": {"Quantity": 2, "Items": [{"OriginId": m} for m in members]},
        }]}
    return config


@st.composite
def new_origins(draw: st.DrawFn) -> CustomOrigin | S3Origin:
    oid = "new-" + draw(ids)
    if draw(st.integers(0, 3)) == 0:
        return S3Origin(oid, "assets-bucket.s3.us-east-1.amazonaws.com", "E2QWRUHAPOMQZL",
                        origin_path=draw(st.sampled_from(["", "/assets"])))
    return CustomOrigin(oid, draw(st.sampled_from([ALB, "abc.execute-api.eu-west-1.amazonaws.com"])),
                        origin_path=draw(st.sampled_from(["", "/prod"])),
                        protocol=draw(st.sampled_from(["https-only", "match-viewer"])),
                        read_timeout=draw(st.integers(1, 60)),
                        verify_secret=draw(st.one_of(st.none(), st.just(SECRET))))


@st.composite
def new_behaviors(draw: st.DrawFn) -> Behavior:
    return Behavior(draw(path_patterns()), compress=draw(st.booleans()),
                    allowed_methods=draw(st.sampled_from([ALL_METHODS, ("GET", "HEAD")])))


def _fresh(config: dict[str, Any], behavior: Behavior) -> bool:
    existing = {normalize_pattern(b["PathPattern"]) for b in config["CacheBehaviors"].get("Items", [])}
    return normalize_pattern(behavior.path_pattern) not in existing


def _other_parts(config: dict[str, Any], origin_id: str, pattern: str) -> dict[str, Any]:
    """The config without the given origin and behavior (what must never change)."""
    doc = copy.deepcopy(config)
    doc["Origins"] = [o for o in doc["Origins"].get("Items", []) if o["Id"] != origin_id]
    doc["CacheBehaviors"] = [b for b in doc["CacheBehaviors"].get("Items", []) if b["PathPattern"] != pattern]
    return doc


# -- properties ---------------------------------------------------------------------------
@PROPS
@given(distribution_configs(), new_origins(), new_behaviors())
def test_remove_undoes_splice_exactly(config: dict[str, Any], origin: Any, behavior: Behavior) -> None:
    assume(_fresh(config, behavior))
    frozen = copy.deepcopy(config)
    spliced = splice_origin(config, origin, behavior)
    assert config == frozen  # the input is never mutated
    assert remove_origin(spliced, origin.id) == config
    assert json.dumps(remove_origin(spliced, origin.id)) == json.dumps(config)  # key order too


@PROPS
@given(distribution_configs(), new_origins(), new_behaviors())
def test_splice_is_idempotent(config: dict[str, Any], origin: Any, behavior: Behavior) -> None:
    assume(_fresh(config, behavior))
    once = splice_origin(config, origin, behavior)
    twice = splice_origin(once, origin, behavior)
    assert twice == once
    assert splice_status(once, twice, origin.id) == "unchanged"
    assert splice_status(config, once, origin.id) == "created"


@PROPS
@given(distribution_configs(), new_origins(), new_behaviors())
def test_splice_touches_nothing_else(config: dict[str, Any], origin: Any, behavior: Behavior) -> None:
    assume(_fresh(config, behavior))
    spliced = splice_origin(config, origin, behavior)
    assert _other_parts(spliced, origin.id, behavior.path_pattern) == _other_parts(config, "", "")
    assert list(spliced) == list(config)  # top-level key order
    for key in ("Origins", "CacheBehaviors"):
        assert spliced[key]["Quantity"] == len(spliced[key]["Items"])
    assert spliced["Origins"]["Items"][-1] == origin.to_api()
    items = spliced["CacheBehaviors"]["Items"]
    index = next(i for i, b in enumerate(items) if b["PathPattern"] == behavior.path_pattern)
    assert items[index] == behavior.to_api(origin.id)
    # placement: nothing in front of it shadows it, and it stands right before the first that would
    assert not any(pattern_subsumes(b["PathPattern"], behavior.path_pattern) for b in items[:index])
    rest = items[index + 1:]
    if any(pattern_subsumes(b["PathPattern"], behavior.path_pattern) for b in rest):
        assert pattern_subsumes(rest[0]["PathPattern"], behavior.path_pattern)
    else:
        assert index == len(items) - 1


@PROPS
@given(distribution_configs(), st.data())
def test_remove_of_an_existing_origin_touches_nothing_else(config: dict[str, Any], data: st.DataObject) -> None:
    default = config["DefaultCacheBehavior"]["TargetOriginId"]
    grouped = {m["OriginId"] for g in config["OriginGroups"].get("Items", []) for m in g["Members"]["Items"]}
    candidates = [o["Id"] for o in config["Origins"]["Items"] if o["Id"] != default and o["Id"] not in grouped]
    assume(candidates)
    victim = data.draw(st.sampled_from(candidates))
    removed = remove_origin(config, victim)
    assert victim not in [o["Id"] for o in removed["Origins"]["Items"]]
    kept = [b for b in config["CacheBehaviors"].get("Items", []) if b["TargetOriginId"] != victim]
    assert removed["CacheBehaviors"].get("Items", []) == kept
    assert removed["CacheBehaviors"]["Quantity"] == len(kept)
    assert {k: v for k, v in removed.items() if k not in ("Origins", "CacheBehaviors")} == \
        {k: v for k, v in config.items() if k not in ("Origins", "CacheBehaviors")}
    assert remove_origin(removed, victim) == removed


# -- path patterns ------------------------------------------------------------------------
@pytest.mark.parametrize(("general", "specific", "expected"), [
    ("/api/*", "/api/v1/*", True),
    ("/api/v1/*", "/api/*", False),
    ("/api*", "/api/*", True),
    ("api/*", "/api/users", True),
    ("*.jpg", "/images/*.jpg", True),
    ("/images/*.jpg", "*.jpg", False),
    ("/*", "/anything", True),
    ("/a?c", "/abc", True),
    ("/abc", "/a?c", False),
    ("*?", "?*", True),
    ("?*", "*?", True),
    ("/a*b*c", "/a*bc", True),
    ("/a*bc", "/a*b*c", False),
    ("/api/*", "/api/*", True),
    ("/docs/*", "/api/*", False),
])
def test_pattern_subsumption_examples(general: str, specific: str, expected: bool) -> None:
    assert pattern_subsumes(general, specific) is expected


def _regex(pattern: str) -> re.Pattern[str]:
    p = normalize_pattern(pattern)
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p), re.DOTALL)


_PATHS = ["/" + "".join(t) for n in range(6) for t in itertools.product("ab/c", repeat=n)]
small_patterns = st.text("ab/*?", min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(small_patterns, small_patterns)
def test_pattern_subsumption_agrees_with_brute_force(general: str, specific: str) -> None:
    g, s = _regex(general), _regex(specific)
    brute = all(g.fullmatch(p) for p in _PATHS if s.fullmatch(p))
    assert pattern_subsumes(general, specific) is brute


@settings(max_examples=100, deadline=None)
@given(small_patterns, st.sampled_from(_PATHS[:400]))
def test_pattern_matches_agrees_with_regex(pattern: str, path: str) -> None:
    assert pattern_matches(pattern, path) is bool(_regex(pattern).fullmatch(path))


# -- placement ----------------------------------------------------------------------------
def _config(*patterns: tuple[str, str], default: str = "site") -> dict[str, Any]:
    targets = sorted({t for _, t in patterns} | {default})
    return {
        "CallerReference": "ref",
        "Origins": {"Quantity": len(targets), "Items": [{"Id": t, "DomainName": f"{t}.example.com"}
                                                        for t in targets]},
        "DefaultCacheBehavior": {"TargetOriginId": default},
        "CacheBehaviors": ({"Quantity": len(patterns), "Items": [{"PathPattern": p, "TargetOriginId": t}
                                                                 for p, t in patterns]}
                           if patterns else {"Quantity": 0}),
        "OriginGroups": {"Quantity": 0},
    }


API = CustomOrigin("api", ALB, verify_secret=SECRET)


def _order(config: dict[str, Any]) -> list[str]:
    return [b["PathPattern"] for b in config["CacheBehaviors"].get("Items", [])]


def test_new_behavior_goes_in_front_of_a_more_general_one() -> None:
    cfg = _config(("/api/v1/*", "site"), ("/api*", "site"), ("*.jpg", "site"))
    assert _order(splice_origin(cfg, API, Behavior("/api/*"))) == ["/api/v1/*", "/api/*", "/api*", "*.jpg"]


def test_new_behavior_goes_last_when_nothing_shadows_it() -> None:
    cfg = _config(("/media/*", "site"), ("/api/v1/*", "site"))
    assert _order(splice_origin(cfg, API, Behavior("/api/*"))) == ["/media/*", "/api/v1/*", "/api/*"]
    assert _order(splice_origin(_config(), API, Behavior("/api/*"))) == ["/api/*"]


def test_overlapping_but_not_more_general_patterns_keep_the_order() -> None:
    cfg = _config(("*.jpg", "site"))  # /api/x.jpg matches both, but neither contains the other
    assert _order(splice_origin(cfg, API, Behavior("/api/*"))) == ["*.jpg", "/api/*"]
    assert placement_index([{"PathPattern": "*.jpg"}], "/img/*.jpg") == 0


# -- refusals -----------------------------------------------------------------------------
@pytest.mark.parametrize("pattern", ["/", "/*", "*", "**", "/**", "", "***"])
def test_default_behavior_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(SpliceError) as err:
        splice_origin(_config(), API, Behavior(pattern))
    assert err.value.exit_code == 2
    assert "--path-pattern" in err.value.message
    if pattern:
        assert isinstance(err.value, ReservedPatternError)


def test_origin_id_collision_is_refused_unless_replace() -> None:
    cfg = splice_origin(_config(("/media/*", "media")), API, Behavior("/api/*"))
    other = CustomOrigin("api", "other-alb.us-east-1.elb.amazonaws.com")
    with pytest.raises(OriginIdCollisionError, match="--origin-id: origin 'api' already exists"):
        splice_origin(cfg, other, Behavior("/api/*"))
    replaced = splice_origin(cfg, other, Behavior("/api/*"), replace=True)
    assert [o["Id"] for o in replaced["Origins"]["Items"]] == [o["Id"] for o in cfg["Origins"]["Items"]]
    assert replaced["Origins"]["Items"][-1]["DomainName"] == "other-alb.us-east-1.elb.amazonaws.com"
    assert splice_status(cfg, replaced, "api") == "updated"


def test_identical_origin_can_take_a_second_behavior() -> None:
    cfg = splice_origin(_config(), API, Behavior("/api/*"))
    both = splice_origin(cfg, API, Behavior("/graphql"))
    assert _order(both) == ["/api/*", "/graphql"]
    assert remove_origin(both, "api") == _config()


def test_path_pattern_collision_is_refused_unless_replace() -> None:
    cfg = _config(("/api/*", "media"))
    with pytest.raises(PathPatternCollisionError, match="'api/\\*' already has a behavior"):
        splice_origin(cfg, API, Behavior("api/*"))
    replaced = splice_origin(cfg, API, Behavior("/api/*"), replace=True)
    assert [(b["PathPattern"], b["TargetOriginId"]) for b in replaced["CacheBehaviors"]["Items"]] == \
        [("/api/*", "api")]


def test_the_default_behaviors_origin_is_never_touched() -> None:
    cfg = _config(("/media/*", "media"))
    with pytest.raises(DefaultOriginError, match="default behavior"):
        remove_origin(cfg, "site")
    with pytest.raises(DefaultOriginError):
        splice_origin(cfg, CustomOrigin("site", ALB), Behavior("/api/*"), replace=True)


def test_an_origin_in_an_origin_group_is_not_removed() -> None:
    cfg = _config(("/media/*", "media"))
    cfg["OriginGroups"] = {"Quantity": 1, "Items": [{"Id": "g", "Members": {"Quantity": 1,
                                                                           "Items": [{"OriginId": "media"}]}}]}
    with pytest.raises(OriginInUseError, match="origin group 'g'"):
        remove_origin(cfg, "media")


@pytest.mark.parametrize("domain", ["https://alb.example.com", "alb.example.com/api", "alb.example.com:443",
                                    "localhost:8080", "localhost.", "-alb.example.com", "alb..example.com", "10.0.0.1",
                                    "alb_1.example.com", "", "a" * 64 + ".example.com"])
def test_malformed_domains_are_refused(domain: str) -> None:
    with pytest.raises(MalformedDomainError, match="--domain"):
        splice_origin(_config(), CustomOrigin("api", domain), Behavior("/api/*"))


@pytest.mark.parametrize("domain", ["localhost", "127.0.0.1"])
def test_a_loopback_origin_is_a_server_on_this_machine(domain: str) -> None:
    """Only the local edge reaches it (`add-origin --domain localhost --port 8080`)."""
    spliced = splice_origin(_config(), CustomOrigin("dev", domain, http_port=8080), Behavior("/dev/*"))
    origin = next(o for o in spliced["Origins"]["Items"] if o["Id"] == "dev")
    assert (origin["DomainName"], origin["CustomOriginConfig"]["HTTPPort"]) == (domain, 8080)


def test_s3_origin_needs_a_bucket_domain_and_an_oac() -> None:
    with pytest.raises(MalformedDomainError):
        splice_origin(_config(), S3Origin("assets", "assets.example.com", "E2QWRUHAPOMQZL"), Behavior("/a/*"))
    with pytest.raises(InvalidOriginError, match="--s3-oac-id"):
        splice_origin(_config(), S3Origin("assets", "b.s3.us-east-1.amazonaws.com", "bad id!"), Behavior("/a/*"))
    done = splice_origin(_config(), S3Origin("assets", "b.s3.us-east-1.amazonaws.com", "E2QWRUHAPOMQZL"),
                         Behavior("/assets/*", allowed_methods=("GET", "HEAD")))
    origin = done["Origins"]["Items"][-1]
    assert origin["OriginAccessControlId"] == "E2QWRUHAPOMQZL"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_quotas_are_enforced_and_configurable() -> None:
    many = _config(*[(f"/p{i}/*", "site") for i in range(25)])
    with pytest.raises(QuotaExceededError, match="26 cache behaviors \\(limit 25\\)"):
        splice_origin(many, API, Behavior("/api/*"))
    assert len(splice_origin(many, API, Behavior("/api/*"), limits=Limits(max_behaviors=30))
               ["CacheBehaviors"]["Items"]) == 26
    full = splice_origin(_config(*[(f"/p{i}/*", "site") for i in range(24)]), API, Behavior("/api/*"))
    replaced = splice_origin(full, CustomOrigin("api", "alb-2.us-east-1.elb.amazonaws.com"), Behavior("/api/*"),
                             replace=True)  # at the quota, a replacement adds nothing and is allowed
    assert len(replaced["CacheBehaviors"]["Items"]) == 25
    with pytest.raises(QuotaExceededError, match="2 origins \\(limit 1\\)"):
        splice_origin(_config(), API, Behavior("/api/*"), limits=Limits(max_origins=1))


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"headers": (("Host", "x"),)}, "--header"),
    ({"headers": (("X-Amz-Date", "x"),)}, "--header"),
    ({"headers": (("X-A", "1"), ("x-a", "2"))}, "given twice"),
    ({"headers": (("X-A", ""),)}, "--header"),
    ({"protocol": "ftp"}, "--protocol"),
    ({"read_timeout": 0}, "read timeout"),
    ({"verify_secret": "short"}, "at least 16"),
    ({"origin_path": "prod/"}, "--origin-path"),
])
def test_bad_origin_settings_are_refused(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidOriginError, match=re.escape(needle)):
        splice_origin(_config(), CustomOrigin("api", ALB, **kwargs), Behavior("/api/*"))


def test_every_refusal_is_a_one_line_usage_error() -> None:
    for exc_type in (ReservedPatternError, OriginIdCollisionError, PathPatternCollisionError, DefaultOriginError,
                     OriginInUseError, MalformedDomainError, InvalidOriginError, QuotaExceededError):
        assert issubclass(exc_type, UsageError) and exc_type.exit_code == 2


# -- origin and behavior shapes -------------------------------------------------------------
def test_custom_origin_and_api_behavior_defaults() -> None:
    origin = API.to_api()
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSslProtocols"] == {"Quantity": 1, "Items": ["TLSv1.2"]}
    assert origin["CustomOriginConfig"]["OriginReadTimeout"] == 30
    assert origin["CustomHeaders"]["Items"] == [{"HeaderName": "X-Origin-Verify", "HeaderValue": SECRET}]
    behavior = Behavior("/api/*").to_api("api")
    assert behavior["AllowedMethods"]["Quantity"] == 7
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ORIGIN_REQUEST_ALL_VIEWER_EXCEPT_HOST
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https" and behavior["Compress"] is True


def test_behavior_overrides() -> None:
    doc = Behavior("/api/*", cache_policy_id=CACHING_OPTIMIZED, origin_request_policy_id=None,
                   response_headers_policy_id="rhp", viewer_protocol_policy="https-only", compress=False,
                   allowed_methods=("GET", "HEAD", "OPTIONS")).to_api("api")
    assert doc["CachePolicyId"] == CACHING_OPTIMIZED and "OriginRequestPolicyId" not in doc
    assert doc["ResponseHeadersPolicyId"] == "rhp" and doc["Compress"] is False
    assert doc["ViewerProtocolPolicy"] == "https-only" and doc["AllowedMethods"]["Quantity"] == 3
    with pytest.raises(SpliceError, match="--allowed-methods"):
        splice_origin(_config(), API, Behavior("/api/*", allowed_methods=("GET", "POST")))
    with pytest.raises(SpliceError, match="--viewer-protocol-policy"):
        splice_origin(_config(), API, Behavior("/api/*", viewer_protocol_policy="sometimes"))


def test_function_url_origin_takes_the_url() -> None:
    origin = function_url_origin("fn", "https://abc123.lambda-url.us-east-1.on.aws/")
    assert origin.domain == "abc123.lambda-url.us-east-1.on.aws"


def test_read_back_with_aws_normalisation_counts_as_identical() -> None:
    """AWS/moto add keys, write empty lists as Items: [] and reorder methods: still no write."""
    spliced = splice_origin(_config(), API, Behavior("/api/*"))
    read_back = copy.deepcopy(spliced)
    behavior = read_back["CacheBehaviors"]["Items"][0]
    behavior["AllowedMethods"]["Items"] = list(reversed(behavior["AllowedMethods"]["Items"]))
    behavior["TrustedSigners"]["Items"] = []
    behavior.pop("FieldLevelEncryptionId")
    behavior.update({"MinTTL": 0, "RealtimeLogConfigArn": ""})
    read_back["Origins"]["Items"][-1]["OriginAccessControlId"] = ""
    assert splice_origin(read_back, API, Behavior("/api/*")) == read_back
    assert contains({"a": 1, "b": [1, 2]}, {"b": [2, 1]})
    assert not contains({"a": 1}, {"a": 2})
    assert not contains({"b": [1]}, {"b": [1, 1]})


# -- secrets and diffs ----------------------------------------------------------------------
def test_mask_value_shows_at_most_four_characters() -> None:
    assert mask_value(SECRET) == "0123…(32 chars)"
    assert mask_value("short") == "…(5 chars)"


def test_secrets_never_appear_in_masks_or_diffs() -> None:
    before = _config(("/media/*", "media"))
    after = splice_origin(before, API, Behavior("/api/*"))
    frozen = copy.deepcopy(after)
    assert SECRET not in json.dumps(mask_secrets(after))
    assert after == frozen
    diff = render_diff(before, after)
    assert SECRET not in diff and "0123…(32 chars)" in diff
    assert diff.splitlines()[:2] == [f"+ origin api -> {ALB}",
                                     "+ behavior /api/* -> api (position 2 of 2, then default)"]
    assert "evaluation order: /media/* -> /media/*, /api/* (then default)" in diff
    assert SECRET not in render_diff(after, before)
    assert render_diff(before, before) == "no changes to the distribution config"


def test_summary_names_removed_and_changed_parts() -> None:
    before = splice_origin(_config(("/media/*", "media")), API, Behavior("/api/*"))
    after = remove_origin(before, "api")
    after["Comment"] = "changed"
    assert summarize_changes(before, after).lines == ["- origin api", "- behavior /api/* -> api", "~ Comment"]
