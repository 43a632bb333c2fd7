"""aws/retry.py: a role created seconds ago may not be assumable yet, whichever service says so: such calls
are retried, a bounded number of times; other errors are not."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from tscloud_py.aws.retry import ROLE_ATTEMPTS, backoff, jittered, retry_new_role
from tscloud_py.errors import AwsError


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
    assert len(calls) == 1 + ROLE_ATTEMPTS


def test_lambdas_own_words_are_retried_with_the_sleep_given() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> dict[str, Any]:
        calls.append(1)
        if len(calls) < 3:
            raise AwsError("lambda:CreateFunction", "InvalidParameterValueException",
                           "The role defined for the function cannot be assumed by Lambda.")
        return {"ok": True}

    assert retry_new_role(flaky, attempts=5, sleep=sleeps.append)() == {"ok": True}
    assert len(calls) == 3 and len(sleeps) == 2

    def bad() -> dict[str, Any]:
        raise AwsError("lambda:CreateFunction", "InvalidParameterValueException", "Unsupported runtime")

    with pytest.raises(AwsError, match="Unsupported"):
        retry_new_role(bad, attempts=5, sleep=sleeps.append)()


def test_a_policy_counts_its_first_attempt_and_waits_as_tenacity_would() -> None:
    """``retrying``: the first attempt runs before tenacity is loaded; once it fails, tenacity counts it as
    attempt 1, so ``attempts`` and the waits after attempt n are those of a policy that ran all of them."""
    from tscloud_py.aws.retry import codes, retrying

    calls: list[int] = []
    sleeps: list[float] = []

    def busy() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise AwsError("cloudfront:CreateInvalidation", "TooManyInvalidationsInProgress", "busy")
        return "sent"

    policy = retrying(codes("TooManyInvalidationsInProgress"), what="busy", attempts=3,
                      waits=lambda n: float(n), sleep=sleeps.append)
    assert policy(busy) == "sent" and len(calls) == 3 and sleeps == [1.0, 2.0]

    calls.clear()
    sleeps.clear()

    def always_busy() -> str:
        calls.append(1)
        raise AwsError("cloudfront:CreateInvalidation", "TooManyInvalidationsInProgress", "busy")

    with pytest.raises(AwsError, match="busy"):
        policy(always_busy)
    assert len(calls) == 3 and sleeps == [1.0, 2.0]
    # an answer the policy does not retry is raised at its first attempt, and one attempt means one
    with pytest.raises(AwsError, match="Invalid"):
        policy(lambda: (_ for _ in ()).throw(AwsError("cloudfront:CreateInvalidation", "InvalidArgument", "Invalid")))
    once = retrying(codes("TooManyInvalidationsInProgress"), what="busy", attempts=1, sleep=sleeps.append)
    calls.clear()
    with pytest.raises(AwsError):
        once(always_busy)
    assert len(calls) == 1


def test_a_run_that_retries_nothing_does_not_load_tenacity() -> None:
    import subprocess
    import sys

    program = ("import sys\nfrom tscloud_py.aws.retry import codes, retrying\n"
               "assert retrying(codes('X'), what='x', attempts=3)(lambda: 1) == 1\n"
               "print('tenacity' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_waits_jitter_leaves_the_process_random_state_alone() -> None:
    # A program that embeds tscloud, or a test that seeds ``random`` (Hypothesis does, around each draw),
    # owns that state: a retry on another thread must not move it.
    before = random.getstate()
    waits = [backoff(n) for n in range(1, 8)] + [jittered(0.02, 0.05) for _ in range(5)]
    assert random.getstate() == before
    assert all(0 <= w <= 20 for w in waits[:7]) and all(0.02 <= w <= 0.05 for w in waits[7:])
