"""CreateInvalidation while CloudFront has too many in progress (15 wildcard ones per distribution: preview
stages redeployed at once): sent again, with the same CallerReference, until CloudFront takes it. moto never
refuses an invalidation, so CloudFront's answer is stubbed (botocore's Stubber checks each request's shape)."""

from __future__ import annotations

from botocore.stub import Stubber

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.session import ClientFactory


class Clock:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return sum(self.slept)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_too_many_in_progress_is_sent_again_as_the_same_batch() -> None:
    clock = Clock()
    cloudfront = CloudFront(ClientFactory(region="us-east-1"), clock=clock)
    stubber = Stubber(cloudfront._client)
    batch = {"Paths": {"Quantity": 1, "Items": ["/stages/pr-7/*"]}, "CallerReference": "tscloud-app-preview-pr-7-b1"}
    for _ in range(2):
        stubber.add_client_error("create_invalidation", "TooManyInvalidationsInProgress", http_status_code=400,
                                 expected_params={"DistributionId": "D1", "InvalidationBatch": batch})
    stubber.add_response("create_invalidation", {"Invalidation": {
        "Id": "I1", "Status": "InProgress", "CreateTime": "2026-01-01T00:00:00Z", "InvalidationBatch": batch}},
        {"DistributionId": "D1", "InvalidationBatch": batch})
    with stubber:
        assert cloudfront.create_invalidation("D1", ["/stages/pr-7/*"], "tscloud-app-preview-pr-7-b1") == "I1"
    stubber.assert_no_pending_responses()
    assert len(clock.slept) == 2 and all(2.0 <= s <= 30.0 for s in clock.slept)
