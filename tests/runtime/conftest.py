"""Fixtures for the real-runtime tests: real Nitro/TanStack builds run under aws-lambda-ric.

The apps and the runtime client are installed by .ci/run from tests/realapps/*/package-lock.json.
On a machine where they are not installed these tests skip, except under CI=true where that is a
failure (CI must have installed them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.realapps import build as realapps
from tests.realapps.pg_standin import PgStandIn


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: .ci/run installs it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def ric() -> Path:
    if shutil.which("node") is None:
        _unavailable("node is not on PATH")
    if not realapps.ric_installed():
        _unavailable("aws-lambda-ric is not installed in tests/realapps/ric (run .ci/run, or npm ci there)")
    return realapps.RIC


@pytest.fixture(scope="session")
def realapp(ric: Path) -> Callable[..., Path]:
    """``realapp(name, streaming=True, ejected=False)``: the .output dir of that build."""

    def get(name: str, *, streaming: bool = True, ejected: bool = False) -> Path:
        app = realapps.APPS[name]
        if not app.installed:
            _unavailable(f"tests/realapps/{name} is not installed (run .ci/run, or npm ci there)")
        return realapps.build(name, streaming=streaming, ejected=ejected)

    return get


@pytest.fixture(scope="session")
def pg() -> Iterator[PgStandIn]:
    server = PgStandIn()
    yield server
    server.close()


@pytest.fixture
def app_env(pg: PgStandIn) -> dict[str, str]:
    """The function's environment: the stand-in database, and a pg idle timeout that keeps tests short."""
    return {"DATABASE_URL": pg.url, "PG_IDLE_TIMEOUT_MS": "2500"}
