"""attach_origin / detach_origin against moto behind the strict CloudFront layer (real ETag semantics)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import MotoServer
from tests.fakes.strict_cloudfront import StrictCloudFrontProxy, sample_distribution_config
from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.cloudfront.model import Behavior, CustomOrigin
from tscloud_py.aws.cloudfront.splice import SpliceConflictError, UnknownDistributionError
from tscloud_py.aws.session import ClientFactory
from tscloud_py.errors import AwsError

ALB = "shop-dev-alb-1234567890.us-east-1.elb.amazonaws.com"
API = CustomOrigin("api", ALB, verify_secret="s3cr3t-0123456789abcdef0123456789")
API_BEHAVIOR = Behavior("/api/*")


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[StrictCloudFrontProxy]:
    p = StrictCloudFrontProxy(moto_server.endpoint)
    p.start()
    yield p
    p.stop()


@pytest.fixture
def cf(proxy: StrictCloudFrontProxy) -> CloudFront:
    return CloudFront(ClientFactory(region="us-east-1", endpoint_url=proxy.endpoint, max_attempts=2,
                                    credentials={"aws_access_key_id": "t", "aws_secret_access_key": "t"}))


@pytest.fixture
def dist_id(cf: CloudFront) -> str:
    return cf.create_distribution(sample_distribution_config(uuid.uuid4().hex[:12]), {"t": "1"}).id


def _comment(change: str) -> Any:
    def apply(config: dict[str, Any]) -> dict[str, Any]:
        config["Comment"] = change
        return config

    return apply


def test_the_strict_layer_rotates_etags_and_rejects_stale_if_match(cf: CloudFront, dist_id: str) -> None:
    config, etag = cf.get_config(dist_id)
    config["Comment"] = "one"
    new_etag = cf.update_config(dist_id, config, etag)
    assert new_etag != etag
    assert cf.get_config(dist_id)[1] == new_etag
    with pytest.raises(AwsError) as err:
        cf.update_config(dist_id, config, etag)
    assert err.value.code == "PreconditionFailed"


def test_attach_writes_once_then_reports_unchanged(cf: CloudFront, dist_id: str,
                                                   proxy: StrictCloudFrontProxy) -> None:
    before = proxy.etag(dist_id)
    first = cf.attach_origin(dist_id, API, API_BEHAVIOR)
    assert (first.status, first.written, first.attempts) == ("created", True, 1)
    assert first.etag != before
    proxy.clear_log()
    again = cf.attach_origin(dist_id, API, API_BEHAVIOR)
    assert (again.status, again.written) == ("unchanged", False)
    assert proxy.writes(dist_id) == []
    assert proxy.etag(dist_id) == first.etag
    live, _ = cf.get_config(dist_id)
    assert [b["PathPattern"] for b in live["CacheBehaviors"]["Items"]] == ["/media/*", "/api/*"]


def test_dry_run_writes_nothing_and_masks_the_secret(cf: CloudFront, dist_id: str,
                                                     proxy: StrictCloudFrontProxy) -> None:
    proxy.clear_log()
    result = cf.attach_origin(dist_id, API, API_BEHAVIOR, dry_run=True)
    assert (result.status, result.written, result.dry_run) == ("created", False, True)
    assert proxy.writes() == []
    diff = result.diff()
    assert "+ origin api -> " + ALB in diff
    assert "s3cr3t-0123456789abcdef0123456789" not in diff
    assert "s3cr…(33 chars)" in diff


def test_race_rereads_and_keeps_the_other_writers_change(cf: CloudFront, dist_id: str,
                                                        proxy: StrictCloudFrontProxy) -> None:
    proxy.race(dist_id, _comment("changed by someone else"))
    notes: list[str] = []
    result = cf.attach_origin(dist_id, API, API_BEHAVIOR, notify=notes.append)
    assert (result.status, result.written, result.attempts) == ("created", True, 2)
    assert len(notes) == 1 and "changed since we read it" in notes[0]
    live, etag = cf.get_config(dist_id)
    assert live["Comment"] == "changed by someone else"
    assert [o["Id"] for o in live["Origins"]["Items"]] == ["site", "media", "api"]
    assert etag == result.etag
    statuses = [e.status for e in proxy.log if e.path.endswith(f"{dist_id}/config") and e.method == "PUT"]
    assert statuses == [412, 200]


def test_race_on_detach_keeps_the_other_writers_change(cf: CloudFront, dist_id: str,
                                                      proxy: StrictCloudFrontProxy) -> None:
    original, _ = cf.get_config(dist_id)
    cf.attach_origin(dist_id, API, API_BEHAVIOR)
    proxy.race(dist_id, _comment("other"))
    result = cf.detach_origin(dist_id, "api")
    assert (result.status, result.attempts) == ("deleted", 2)
    live, _ = cf.get_config(dist_id)
    assert live == {**original, "Comment": "other"}


def test_a_writer_that_never_stops_exhausts_the_bounded_retries(cf: CloudFront, dist_id: str,
                                                               proxy: StrictCloudFrontProxy) -> None:
    attempts = 3
    for i in range(1, attempts + 1):
        proxy.race(dist_id, _comment(f"other {i}"))
    with pytest.raises(SpliceConflictError) as err:
        cf.attach_origin(dist_id, API, API_BEHAVIOR, max_attempts=attempts)
    assert err.value.exit_code == 1 and "3 times" in err.value.message
    live, _ = cf.get_config(dist_id)
    assert live["Comment"] == f"other {attempts}"
    assert "api" not in [o["Id"] for o in live["Origins"]["Items"]]


def test_unknown_distribution_is_a_usage_error(cf: CloudFront) -> None:
    with pytest.raises(UnknownDistributionError) as err:
        cf.attach_origin("E0000NOSUCHID", API, API_BEHAVIOR)
    assert err.value.exit_code == 2
    with pytest.raises(UnknownDistributionError):
        cf.detach_origin("E0000NOSUCHID", "api")


def test_detach_of_an_absent_origin_is_unchanged(cf: CloudFront, dist_id: str,
                                                 proxy: StrictCloudFrontProxy) -> None:
    proxy.clear_log()
    result = cf.detach_origin(dist_id, "api")
    assert (result.status, result.written) == ("unchanged", False)
    assert proxy.writes() == []


def test_iter_distributions_reads_every_page() -> None:
    from botocore.stub import Stubber

    factory = ClientFactory(region="us-east-1", credentials={"aws_access_key_id": "t", "aws_secret_access_key": "t"})
    cf = CloudFront(factory)
    client = factory.client("cloudfront", "us-east-1")

    def summary(i: int) -> dict[str, Any]:
        import datetime

        return {
            "Id": f"E{i:012d}", "ARN": f"arn:aws:cloudfront::123456789012:distribution/E{i:012d}",
            "Status": "Deployed", "LastModifiedTime": datetime.datetime(2026, 1, 1),
            "DomainName": f"d{i}.cloudfront.net", "Aliases": {"Quantity": 0},
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "o.example.com"}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all"},
            "CacheBehaviors": {"Quantity": 0}, "CustomErrorResponses": {"Quantity": 0},
            "Comment": f"c{i}", "PriceClass": "PriceClass_All", "Enabled": True,
            "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
            "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
            "WebACLId": "", "HttpVersion": "http2", "IsIPV6Enabled": True, "Staging": False,
        }

    def page(items: list[dict[str, Any]], marker: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = {"Marker": "", "MaxItems": 2, "IsTruncated": marker is not None,
                               "Quantity": len(items), "Items": items}
        if marker:
            doc["NextMarker"] = marker
        return {"DistributionList": doc}

    with Stubber(client) as stub:
        stub.add_response("list_distributions", page([summary(1), summary(2)], "m1"))
        stub.add_response("list_distributions", page([summary(3)], None), {"Marker": "m1"})
        found = cf.find_distribution_by_comment("c3")
    assert found is not None and found["Id"] == "E000000000003"


def test_one_run_reads_a_config_once_until_it_writes(cf: CloudFront, dist_id: str) -> None:
    """The per-run read cache: the plan's read, the dry run and apply's first read of one distribution
    make one GetDistributionConfig; the write drops it, so the next read sees the new ETag. A wait's
    polls (uncached) always ask."""
    calls = cf.factory.requests.calls
    config, etag = cf.get_config(dist_id, cached=True)
    assert cf.attach_origin(dist_id, API, API_BEHAVIOR, dry_run=True).status != "unchanged"
    result = cf.attach_origin(dist_id, API, API_BEHAVIOR)
    assert result.written and calls["cloudfront:GetDistributionConfig"] == 1
    assert calls["cloudfront:UpdateDistribution"] == 1
    fresh, fresh_etag = cf.get_config(dist_id, cached=True)
    assert fresh_etag != etag and calls["cloudfront:GetDistributionConfig"] == 2
    assert any(o["Id"] == "api" for o in fresh["Origins"]["Items"])
    assert "api" not in [o["Id"] for o in config["Origins"]["Items"]]
    cf.get_distribution(dist_id, cached=True)
    cf.get_distribution(dist_id, cached=True)
    cf.get_distribution(dist_id)
    assert calls["cloudfront:GetDistribution"] == 2
