"""The executable's entry: the console script and ``python -m tscloud_py`` run the same ``run()``, which tunes
the cyclic collector before the CLI loads and leaves through the exit handlers without the interpreter's
teardown."""

from __future__ import annotations

import subprocess
import sys

import tomllib

from tests.conftest import REPO


def test_the_console_script_and_python_m_run_the_same_entry() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["tscloud"] == "tscloud_py.__main__:run"


def test_run_sets_the_collector_threshold_and_runs_the_exit_handlers() -> None:
    program = (
        "import atexit, gc, sys\n"
        "import tscloud_py.__main__ as entry\n"
        "atexit.register(lambda: print('threshold', gc.get_threshold()[0], gc.isenabled()))\n"
        "sys.argv = ['tscloud', '--version']\n"
        "entry.run()\n"
        "print('not reached')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "tscloud, version 0.1.0"
    # the collector still runs, only less often; the handlers ran and nothing after run() did
    assert lines[1:] == [f"threshold {200_000} True"]


def test_a_failing_command_exits_with_its_code_through_the_same_exit() -> None:
    done = subprocess.run([sys.executable, "-m", "tscloud_py", "--config", "missing.toml", "outputs"],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
