"""Fixtures the CLI tests share."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy, aws_like_distribution_summaries
from tests.fakes.strict_cloudfront import StrictCloudFrontProxy


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[AwsProxy]:
    """client -> counting proxy -> strict CloudFront ETag proxy -> moto (CloudFront's If-Match held to AWS's
    rules, which moto does not check); a test module may define its own ``proxy`` instead."""
    aws_like_distribution_summaries()
    strict = StrictCloudFrontProxy(moto_server.endpoint)
    strict.start()
    with AwsProxy(strict.endpoint) as counting:
        yield counting
    strict.stop()
