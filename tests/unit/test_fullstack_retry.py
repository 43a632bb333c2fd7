"""A role created seconds ago may not be assumable yet: such calls are retried, a bounded number of times;
other errors are not."""

from __future__ import annotations

import time

import pytest

from tscloud_py.errors import AwsError
from tscloud_py.presets.fullstack_app.common import retry_new_role


def test_retries_while_the_role_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    calls = []

    def create() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise AwsError("scheduler:CreateSchedule", "ValidationException",
                           "The execution role you provide must allow AWS EventBridge Scheduler to assume the role.")
        return "created"

    assert retry_new_role(create)() == "created" and len(calls) == 3


def test_other_errors_and_exhaustion_are_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    calls = []

    def bad_input() -> None:
        calls.append(1)
        raise AwsError("ecs:CreateService", "InvalidParameterException", "desiredCount must be >= 0")

    with pytest.raises(AwsError):
        retry_new_role(bad_input)()
    assert len(calls) == 1

    def never_ready() -> None:
        calls.append(1)
        raise AwsError("ecs:CreateService", "InvalidParameterException", "Unable to assume role")

    with pytest.raises(AwsError, match="assume role"):
        retry_new_role(never_ready)()
    assert len(calls) == 1 + 6
