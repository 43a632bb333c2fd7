"""Fixtures for the real-runtime tests: real Nitro/TanStack builds run under aws-lambda-ric.

The apps and the runtime client are installed by .ci/run from tests/realapps/*/package-lock.json.
On a machine where they are not installed these tests skip, except under CI=true where that is a
failure (CI must have installed them). ``self_installed`` is the other way in: the runtime client
as tscloud installs it itself, from an empty cache, once per test run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.realapps import build as realapps
from tests.realapps.pg_standin import PgStandIn
from tscloud_py.lambda_runtime.ric_install import RIC_ENV, ensure_ric

# The first test of a run that needs the self-installed runtime client waits for its native build
# (minutes on a busy 2-core machine): more than pytest's per-test default.
SELF_INSTALL_TIMEOUT_S = 1500


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "self_installed" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(SELF_INSTALL_TIMEOUT_S))


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
def self_installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG_CACHE_HOME in which tscloud installed aws-lambda-ric itself, starting empty.

    Under xdist the workers share one (in the run's common temp dir) and the install's own file lock
    makes the second wait for the first: one install per run. ``progress.txt`` keeps what it printed.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are not on PATH")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = tmp_path_factory.getbasetemp().parent / "xdg-cache"
        base.mkdir(exist_ok=True)
    else:
        base = tmp_path_factory.mktemp("xdg-cache")
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(base))
        mp.delenv(RIC_ENV, raising=False)
        ensure_ric(progress=lines.append)
    if lines:
        (base / "progress.txt").write_text("\n".join(lines) + "\n")
    return base


@pytest.fixture
def installed_env(self_installed: Path) -> dict[str, str]:
    """The environment a CLI subprocess needs to find only the self-installed runtime client."""
    return {"XDG_CACHE_HOME": str(self_installed), RIC_ENV: ""}


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
