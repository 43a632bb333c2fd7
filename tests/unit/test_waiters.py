"""aws/waiters.wait_for with an injected clock (no real sleeping), and the client factory's retry set-up."""

from __future__ import annotations

import pytest

from tscloud_py.aws.session import DEFAULT_MAX_ATTEMPTS, ClientFactory
from tscloud_py.aws.waiters import Poll, WaitPolicy, WaitProgress, format_duration, wait_for
from tscloud_py.errors import WaitTimeoutError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_polls_with_backoff_until_done_reporting_progress() -> None:
    clock = FakeClock()
    states = iter(["InProgress", "InProgress", "InProgress", "InProgress", "Deployed"])
    seen: list[WaitProgress] = []

    def check() -> Poll[str]:
        state = next(states)
        return Poll.finished("dist-1", state) if state == "Deployed" else Poll.pending(state)

    got = wait_for(check, what="distribution Deployed", clock=clock, progress=seen.append,
                   policy=WaitPolicy(timeout=600, first_interval=2, max_interval=5, backoff=2))
    assert got == "dist-1"
    assert clock.sleeps == [2, 4, 5, 5]  # exponential, capped
    assert [p.state for p in seen] == ["InProgress"] * 4 + ["Deployed"]
    assert [p.elapsed for p in seen] == [0, 2, 6, 11, 16]
    assert all(p.what == "distribution Deployed" and p.timeout == 600 for p in seen)


def test_times_out_naming_what_and_the_last_state() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError) as info:
        wait_for(lambda: Poll.pending("InProgress"), what="invalidation I1", clock=clock,
                 policy=WaitPolicy(timeout=65, first_interval=10, max_interval=30, backoff=1.5))
    assert info.value.message == "timed out after 1m05s waiting for invalidation I1 (last state: InProgress)"
    assert sum(clock.sleeps) == 65  # the last sleep is cut to the deadline, never past it
    assert info.value.exit_code == 1


def test_done_on_the_first_poll_never_sleeps() -> None:
    clock = FakeClock()
    assert wait_for(lambda: Poll.finished(42), what="x", clock=clock) == 42
    assert clock.sleeps == []


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.9, "59s"), (60, "1m00s"), (192, "3m12s"),
                                               (3600, "1h00m"), (7322, "2h02m"), (-5, "0s")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_client_factory_uses_standard_retries_with_a_larger_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    factory = ClientFactory(region="eu-west-1", credentials={"aws_access_key_id": "x",
                                                             "aws_secret_access_key": "y"})
    assert factory.endpoint_url == "http://127.0.0.1:9"
    client = factory.client("s3")
    # botocore's max_attempts counts retries: the first try plus DEFAULT_MAX_ATTEMPTS retries.
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": DEFAULT_MAX_ATTEMPTS + 1}
    assert DEFAULT_MAX_ATTEMPTS > 3
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert factory.client("s3") is client  # cached
    assert factory.client("cloudfront", "us-east-1").meta.region_name == "us-east-1"
