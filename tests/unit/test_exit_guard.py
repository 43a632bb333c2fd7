"""The watchdog that makes a signal end the process even when the main thread cannot unwind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tscloud_py.operations import exit_guard


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    exit_guard.reset()
    yield
    exit_guard.reset()


def test_after_the_grace_period_it_releases_what_is_held_and_exits_with_the_code(
        capsys: pytest.CaptureFixture[str]) -> None:
    exited = threading.Event()
    codes: list[int] = []
    released: list[str] = []

    def fake_exit(code: int) -> None:
        codes.append(code)
        exited.set()

    with exit_guard.released_on_forced_exit(lambda: released.append("lock")):
        exit_guard.arm(130, grace=0.05, exit=fake_exit)
        exit_guard.arm(143, grace=0.05, exit=fake_exit)  # a second signal does not start a second watchdog
        assert exited.wait(30)
    assert codes == [130] and released == ["lock"]
    err = capsys.readouterr().err
    assert "interrupted; re-run the same command to resume" in err and "did not stop within" in err


def test_a_release_that_fails_does_not_keep_the_process_alive() -> None:
    exited = threading.Event()

    def broken() -> None:
        raise RuntimeError("the store is gone")

    with exit_guard.released_on_forced_exit(broken):
        exit_guard.arm(143, grace=0.0, exit=lambda code: exited.set())
        assert exited.wait(30)


def test_what_was_let_go_normally_is_not_released_again() -> None:
    exited = threading.Event()
    released: list[str] = []
    with exit_guard.released_on_forced_exit(lambda: released.append("lock")):
        pass
    exit_guard.arm(130, grace=0.0, exit=lambda code: exited.set())
    assert exited.wait(30) and released == []


STUCK = """
import signal, sys, threading, time
from pathlib import Path
from tscloud_py.cli import main as cli
from tscloud_py.operations import exit_guard
exit_guard.GRACE_SECONDS = 0.5
signal.signal(signal.SIGINT, cli._on_signal)
with exit_guard.released_on_forced_exit(lambda: Path(sys.argv[1]).write_text("released")):
    try:
        print("ready", flush=True)  # inside the try: the signal is sent only after this line
        time.sleep(600)
    except KeyboardInterrupt:
        threading.Event().wait()  # an unwinding that never finishes
"""


def test_a_real_sigint_ends_a_process_whose_main_thread_is_stuck(tmp_path: Path) -> None:
    marker = Path(str(tmp_path)) / "released"
    proc = subprocess.Popen([sys.executable, "-c", STUCK, str(marker)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert marker.read_text() == "released" and "did not stop within" in err
