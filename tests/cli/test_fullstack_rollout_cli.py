"""Rollout truth through the real CLI: a rollout the circuit breaker stops exits 1 and prints the
service events, the stopped tasks' reasons and the target health (moto cannot fail a rollout, so a
strict proxy layer makes it look like AWS after a bad image)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.site_support import tscloud
from tests.conftest import MotoServer
from tests.fakes.failing_rollout import CONTAINER_REASON, STOPPED_REASON, FailingRolloutProxy

CONFIG = """
app = "fsr"
preset = "fullstack-app"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
rollout_timeout = 60

[api.environment]
RELEASE = "{release}"
"""


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FailingRolloutProxy]:
    p = FailingRolloutProxy(moto_server.endpoint)
    p.start()
    yield p
    p.stop()


def test_failed_rollout_exits_1_with_events_reasons_and_target_health(proxy: FailingRolloutProxy,
                                                                      tmp_path: Path) -> None:
    (tmp_path / "tscloud.toml").write_text(CONFIG.format(release="1"))
    first = tscloud(tmp_path, proxy.endpoint, "deploy")
    assert first.code == 0, first.output

    (tmp_path / "tscloud.toml").write_text(CONFIG.format(release="2"))
    proxy.fail_revision(2)
    failed = tscloud(tmp_path, proxy.endpoint, "deploy")
    assert failed.code == 1, failed.output
    err = failed.stderr
    assert "step 'service' failed: rollout of fsr-dev-api:2 failed" in err
    assert "the deployment circuit breaker stopped the rollout" in err
    assert "deployment failed: tasks failed to start." in err  # the last service events
    assert "has started 1 tasks" in err
    assert STOPPED_REASON in err and CONTAINER_REASON in err  # the stopped tasks' reasons
    assert "10.0.1.23:80 unhealthy (Target.ResponseCodeMismatch" in err  # the target health
    assert "Traceback" not in failed.output
    assert "deploy FAILED" in err
    # the outputs of a failed deploy are not printed as if it had succeeded
    assert "load_balancer_dns" not in failed.stdout
