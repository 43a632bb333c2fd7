"""Fixtures for the real-runtime tests: real Nitro/TanStack builds run under aws-lambda-ric.

The apps and the runtime client are installed by .ci/run from tests/realapps/*/package-lock.json.
On a machine where they are not installed these tests skip, except under CI=true where that is a
failure (CI must have installed them). ``self_installed`` is the other way in: the runtime client
as tscloud installs it itself, from an empty cache, once per test run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bun_support import HOST_ARCH, ci_bun_path, real_bun
from tests.conftest import REPO
from tests.realapps import build as realapps
from tests.realapps.pg_standin import PgStandIn
from tscloud_py.lambda_runtime.ric_install import RIC_ENV

# The first test of a run that needs the self-installed runtime client may wait for its native build
# (minutes on a busy 2-core machine): more than pytest's per-test default.
SELF_INSTALL_TIMEOUT_S = 1500
# The install itself, as a process of its own: its progress lines go to progress.txt as they come
# (under the install's lock, so whoever waited for it finds them).
_INSTALL = """
import sys
from pathlib import Path
from tscloud_py.lambda_runtime.ric_install import ensure_ric
log = Path(sys.argv[1]) / "progress.txt"
def progress(line):
    with open(log, "a") as fh:
        fh.write(line + "\\n")
ensure_ric(progress=progress)
"""
_background: list[subprocess.Popen[bytes]] = []


def _cache_home(factory: pytest.TempPathFactory) -> Path:
    """Under xdist the workers share one (in the run's common temp dir): one install per run."""
    base = factory.getbasetemp().parent / "xdg-cache" if os.environ.get("PYTEST_XDIST_WORKER") \
        else factory.getbasetemp() / "xdg-cache"
    base.mkdir(exist_ok=True)
    return base


def _install_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != RIC_ENV}
    return {**env, "XDG_CACHE_HOME": str(base), "PYTHONPATH": str(REPO)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = [item for item in items if "self_installed" in getattr(item, "fixturenames", ())]
    for item in wanted:
        item.add_marker(pytest.mark.timeout(SELF_INSTALL_TIMEOUT_S))
    # Start the install now, beside the tests that run first, rather than when the first test needs it.
    factory = getattr(config, "_tmp_path_factory", None)
    if wanted and factory is not None and shutil.which("npm") is not None:
        base = _cache_home(factory)
        _background.append(subprocess.Popen([sys.executable, "-c", _INSTALL, str(base)], env=_install_env(base),
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True))


def pytest_sessionfinish() -> None:
    for proc in _background:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
def bun() -> Path:
    """Real Bun (npm's release at the pinned version), as .ci/run installs it."""
    found = real_bun()
    if found is None:
        _unavailable(f"Bun is not installed at {os.environ.get('TSCLOUD_TEST_BUN') or ci_bun_path()} "
                     "(run .ci/run, or set TSCLOUD_TEST_BUN)")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def bun_layer_zip(bun: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Bun layer with real Bun for this machine, built once per session (its ~100 MB binary compressed
    once)."""
    from tscloud_py.build.bun_layer import build_bun_layer

    path = tmp_path_factory.mktemp("bun-layer") / "layer.zip"
    path.write_bytes(build_bun_layer(bun, HOST_ARCH))
    return path


@pytest.fixture(scope="session")
def self_installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG_CACHE_HOME in which tscloud installed aws-lambda-ric itself, starting empty (``progress.txt``
    keeps what the install printed). Waits for the install started at collection, or makes it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are not on PATH")
    base = _cache_home(tmp_path_factory)
    out = subprocess.run([sys.executable, "-c", _INSTALL, str(base)], env=_install_env(base), capture_output=True,
                         text=True, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        pytest.fail(f"tscloud could not install aws-lambda-ric: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
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
