"""The state backend's own writes (lock create and renewals, journal writes, the release) when their answers
are lost: the write took effect, botocore resends it, and S3 answers the resend 412 because its condition
no longer holds. tscloud reads the key back and knows its own write, instead of stopping with "written by
another run". The fault is injected by the test proxy on a real moto server: no real S3 loses an answer on
demand."""

from __future__ import annotations

import itertools
from pathlib import Path

from tests.cli import state_support as state
from tests.cli.site_support import make_site, tscloud
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy, Recorded


def test_lost_answers_to_state_writes_are_known_as_our_own(moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "lost-state")
    every_other = itertools.count()

    def first_of_two(r: Recorded) -> bool:
        return r.state and r.mutating and next(every_other) % 2 == 0

    for mode in ("500", "drop"):
        with AwsProxy(moto_server.endpoint) as proxy:
            proxy.lose(first_of_two, mode)
            run = tscloud(project, proxy.endpoint, "--output", "json", "deploy", timeout=600)
            proxy.lose(None)
            assert run.code == 0, run.output[-3000:]
            assert "another run" not in run.output
            assert len([r for r in proxy.lost if r.state]) >= 2, [r.describe() for r in proxy.lost]
        assert state.lock(moto_server.endpoint, "lost-state") is None  # released, not left to its lease
    again = tscloud(project, moto_server.endpoint, "--output", "json", "deploy")
    assert again.code == 0 and {s["status"] for s in again.json()["steps"]} == {"unchanged"}, again.output
