"""CloudWatch sums for `tscloud status`: a count reported a moment ago is inside "the last hour" (moto, like any
store that keeps EndTime to the second, misses a data point of the query's own second unless the window is
closed at the next minute), and nothing older than the window is summed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from tscloud_py.aws.cloudwatch import CloudWatch, Metric
from tscloud_py.aws.session import ClientFactory

BLOCKED = Metric("AWS/WAFV2", "BlockedRequests", (("WebACL", "shop-dev-use1-waf"), ("Rule", "shop-rate-limit")))
COUNTED = Metric("AWS/WAFV2", "CountedRequests", (("WebACL", "shop-dev-use1-waf"), ("Rule", "shop-rate-limit")))


@pytest.fixture
def cloudwatch() -> Iterator[CloudWatch]:
    with mock_aws():
        yield CloudWatch(ClientFactory(region="us-east-1"), "us-east-1")


def test_counts_reported_just_now_are_summed_at_once(cloudwatch: CloudWatch) -> None:
    for expected in range(1, 6):  # each put and its read fall in one second nearly always
        cloudwatch.put_counts([BLOCKED])
        assert cloudwatch.sums([BLOCKED, COUNTED]) == [float(expected), 0.0]


def test_data_older_than_the_window_is_not_summed(cloudwatch: CloudWatch) -> None:
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace=BLOCKED.namespace, MetricData=[{**{k: v for k, v in BLOCKED.api().items() if k != "Namespace"},
                                                  "Value": 7.0, "Unit": "Count", "Timestamp": two_hours_ago}])
    cloudwatch.put_counts([BLOCKED])
    assert cloudwatch.sums([BLOCKED]) == [1.0]
    assert cloudwatch.sums([BLOCKED], hours=3) == [8.0]
