"""Shared fixtures: AWS credentials that never reach AWS, a moto server on loopback, the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

# Never let a test reach a real AWS account, whatever the developer's shell has.
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
os.environ.setdefault("MOTO_ECS_SERVICE_RUNNING", "1")


def pytest_configure(config: pytest.Config) -> None:
    """Compile tscloud_py's bytecode once, before the first test (in the xdist controller, or the only
    process). The suite starts `python -m tscloud_py` thousands of times; where PYTHONDONTWRITEBYTECODE is set
    no run keeps what it compiled, and each would compile every module it imports again (~0.1 s of CPU). A
    file edited later is compiled again by the import system, which checks each .pyc against its source."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import compileall

    compileall.compile_dir(REPO / "tscloud_py", quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long sweeps (marked ``slow``) run first, in the order collected, the rest after them as collected.
    Under ``-n 2`` a minutes-long test started near the end would keep one worker busy while the other has
    nothing left; started first, the short tests fill the other worker around them."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True, scope="session")
def _moto_fidelity() -> None:
    """moto's bucket-policy evaluator applies Deny statements whose conditions are unmet; AWS does not."""
    from tscloud_py.emulator.fidelity import patch_moto_fidelity

    patch_moto_fidelity()


def _stop_emulator(state: Path) -> None:
    home = state / "tscloud" / "emulator"
    if (home / "running.lock").exists():  # started, answering or not
        from tscloud_py.emulator.daemon import stop

        stop(home)


@pytest.fixture(autouse=True, scope="session")
def _session_emulator_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """--local commands run by session-scoped fixtures get an emulator of this session's."""
    state = tmp_path_factory.mktemp("xdg-state-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        yield state
    _stop_emulator(state)


@pytest.fixture(autouse=True, scope="module")
def _module_emulator_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """--local commands run by a module-scoped fixture get an emulator of that module's, started with
    the environment that fixture gives it (a runtime client's path, say), stopped at the module's end."""
    state = tmp_path_factory.mktemp("xdg-state-module")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(state))
        yield state
    _stop_emulator(state)


@pytest.fixture(autouse=True)
def _own_emulator_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test's --local commands get their own per-user emulator (XDG_STATE_HOME), stopped by its pid
    afterwards: no test sees another's deploys, none leaves an emulator running."""
    state = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    yield state
    _stop_emulator(state)


@dataclass
class MotoServer:
    endpoint: str

    def reset(self) -> None:
        import urllib.request

        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """A real moto server on 127.0.0.1 (one per test session / xdist worker)."""
    from moto.server import ThreadedMotoServer

    from tscloud_py.emulator.fidelity import patch_moto_fidelity

    patch_moto_fidelity()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield MotoServer(f"http://{host}:{port}")
    server.stop()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 180, input: str | None = None) -> CliResult:
    """Run the real `tscloud` command as a subprocess."""
    full_env = {**os.environ, "CI": "1", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "tscloud_py", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, input=input,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> Any:
    return run_cli
