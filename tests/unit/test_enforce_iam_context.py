"""A condition on a key the request fills (lambda:FunctionArn, the function an event source mapping feeds)
is judged against that request's function, not against the policy's own pattern."""

from __future__ import annotations

import json

import pytest

from tscloud_py.emulator.enforce_iam import refused, request_context

MAPPINGS_OF_SHOP_DEV = {"Statement": [{
    "Effect": "Allow", "Action": ["lambda:CreateEventSourceMapping"], "Resource": "*",
    "Condition": {"ArnLike": {"lambda:FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:shop-dev-*"}}}]}


@pytest.mark.parametrize(("function", "allowed"), [
    ("shop-dev-jobs", True),
    ("arn:aws:lambda:us-east-1:123456789012:function:shop-dev-jobs", True),
    ("billing-jobs", False),
    ("arn:aws:lambda:us-east-1:999999999999:function:shop-dev-jobs", False),
])
def test_a_mapping_is_judged_by_the_function_it_names(function: str, allowed: bool) -> None:
    body = json.dumps({"FunctionName": function, "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q"})
    context = request_context("lambda", body.encode(), "us-east-1", "123456789012")
    denied = refused([MAPPINGS_OF_SHOP_DEV], "lambda", "CreateEventSourceMapping", "/2015-03-31/event-source-mappings",
                     context)
    assert denied == (None if allowed else ("lambda:CreateEventSourceMapping", ""))


def test_a_request_that_names_no_function_does_not_meet_the_condition() -> None:
    assert request_context("lambda", b"", "us-east-1", "123456789012") == {}
    assert request_context("sqs", b'{"FunctionName": "shop-dev-jobs"}', "us-east-1", "123456789012") == {}
    assert refused([MAPPINGS_OF_SHOP_DEV], "lambda", "CreateEventSourceMapping", "/2015-03-31/event-source-mappings",
                   {}) == ("lambda:CreateEventSourceMapping", "")
