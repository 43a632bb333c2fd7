"""create_or_adopt: a lost answer is looked up before anything is sent again; clear errors are not retried."""

from __future__ import annotations

import pytest

from tscloud_py.aws.retry import create_or_adopt
from tscloud_py.errors import AwsError


def _run(outcomes: list[object], found: list[str | None]) -> tuple[str, list[str]]:
    log: list[str] = []

    def create() -> str:
        log.append("create")
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    def find() -> str | None:
        log.append("find")
        return found.pop(0)

    return create_or_adopt(create, find, "svc:CreateX", exists=("AlreadyExists",), sleep=lambda _s: None), log


def test_a_lost_answer_adopts_what_the_first_request_made() -> None:
    result, log = _run([AwsError("svc:CreateX", "InternalError", "boom", status=500)], ["x-1"])
    assert (result, log) == ("x-1", ["create", "find"])
    result, log = _run([AwsError("svc:CreateX", "ConnectionClosedError", "gone", ambiguous=True)], ["x-2"])
    assert (result, log) == ("x-2", ["create", "find"])


def test_a_lost_request_is_sent_again_only_when_nothing_was_made() -> None:
    result, log = _run([AwsError("svc:CreateX", "InternalError", "boom", status=503), "x-3"], [None])
    assert (result, log) == ("x-3", ["create", "find", "create"])


def test_exists_adopts_and_throttling_retries_without_lookup() -> None:
    result, log = _run([AwsError("svc:CreateX", "AlreadyExists", "taken", status=400)], ["x-4"])
    assert (result, log) == ("x-4", ["create", "find"])
    result, log = _run([AwsError("svc:CreateX", "ThrottlingException", "slow", status=400), "x-5"], [])
    assert (result, log) == ("x-5", ["create", "create"])


def test_clear_errors_and_foreign_names_raise() -> None:
    with pytest.raises(AwsError, match="InvalidParameter"):
        _run([AwsError("svc:CreateX", "InvalidParameter", "bad", status=400)], [])
    with pytest.raises(AwsError, match="AlreadyExists"):  # taken, but not findable as ours
        _run([AwsError("svc:CreateX", "AlreadyExists", "taken", status=400)], [None])
