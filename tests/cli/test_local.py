"""The embedded emulator (issue 2, "Done means" 1): the README's first command deploys the bundled example with
--local, showing progress and printing the outputs; `tscloud local serve` keeps an emulator up that deploys
and the aws CLI can use, and SIGTERM stops it."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.site_support import OUTPUT_KEYS, make_site, tscloud
from tests.conftest import REPO, run_cli


def readme_first_command() -> list[str]:
    """The tscloud part of the README's first command (`pip install ... && tscloud ...`)."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README has no sh block"
    first = block.group(1).strip().splitlines()[0]
    command = shlex.split(first.split("&&")[-1])
    assert command[0] == "tscloud" and "--local" in command and command[-1] == "deploy", first
    return command[1:]


def copy_example(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples" / "static-site", tmp_path / "examples" / "static-site",
                    ignore=shutil.ignore_patterns(".tscloud"))
    return tmp_path


def outputs_in(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in OUTPUT_KEYS:
            found[key] = value.strip()
    return found


def test_readme_first_command_deploys_the_example_locally(tmp_path: Path) -> None:
    args = readme_first_command()
    root = copy_example(tmp_path)
    result = run_cli(*args, cwd=root)
    assert result.code == 0, result.output
    assert re.search(r"local emulator: http://127\.0\.0\.1:\d+ \(started in the background", result.stderr)
    for step in ("bucket", "oac", "distribution", "bucket-policy", "upload", "invalidation"):
        assert f"{step}: started" in result.stderr  # one plain progress line per event off a terminal
    assert "deploy finished" in result.stderr
    outputs = outputs_in(result.stdout)
    assert set(outputs) == set(OUTPUT_KEYS), result.stdout
    assert outputs["bucket"].startswith("hello-site-dev-site-")
    assert outputs["url"] == f"https://{outputs['distribution_domain']}"
    assert "Traceback" not in result.stderr
    # The journal is in the emulator's state bucket, not in the project's files.
    assert not list((root / "examples" / "static-site" / ".tscloud" / "state").glob("*/*"))


def test_readme_first_command_on_a_terminal_shows_the_live_view(tmp_path: Path) -> None:
    args = readme_first_command()
    root = copy_example(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(TERM="xterm", COLUMNS="120", LINES="40")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tscloud_py", *args], cwd=root, env=env,
                            stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True)
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.5)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(primary)
    screen = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", b"".join(chunks)).decode("utf-8", "replace")
    assert proc.returncode == 0, screen[-3000:]
    # The rich live table: a header row and one row per step with its state.
    assert re.search(r"step\s+state\s+time\s+detail", screen), screen[-3000:]
    assert re.search(r"distribution\s+created", screen)
    assert "distribution_domain" in screen


def test_local_serve_then_deploy_to_it_then_sigterm(tmp_path: Path, _own_emulator_home: Path) -> None:
    project = make_site(tmp_path, "served-site")
    serve = subprocess.Popen([sys.executable, "-m", "tscloud_py", "local", "serve"], cwd=project,
                             env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout is not None
        first = serve.stdout.readline()
        match = re.fullmatch(r"emulator listening on (http://127\.0\.0\.1:\d+) \(state kept in (.+)\)\n", first)
        assert match, first
        endpoint = match.group(1)
        home = _own_emulator_home / "tscloud" / "emulator"
        assert match.group(2) == str(home)
        recorded = _wait_for_json(home / "emulator.json")
        assert recorded["endpoint"] == endpoint and recorded["pid"] == serve.pid

        deployed = tscloud(project, endpoint, "--output", "json", "deploy")
        assert deployed.code == 0, deployed.output
        bucket = deployed.json()["outputs"]["bucket"]

        # --local finds the running emulator instead of starting its own.
        again = run_cli("--local", "--output", "json", "deploy", cwd=project)
        assert again.code == 0, again.output
        assert again.json()["outputs"]["bucket"] == bucket

        # The aws CLI can explore it (the endpoint is printed for exactly that).
        if shutil.which("aws"):
            listed = subprocess.run(["aws", "--endpoint-url", endpoint, "s3", "ls", f"s3://{bucket}/"],
                                    env={**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                                         "AWS_DEFAULT_REGION": "us-east-1"},
                                    capture_output=True, text=True, timeout=60)
            assert listed.returncode == 0, listed.stderr
            assert "index.html" in listed.stdout
    finally:
        serve.send_signal(signal.SIGTERM)
        _out, err = serve.communicate(timeout=30)
    assert serve.returncode == 0, err
    assert "emulator stopped" in err
    assert not (home / "emulator.json").exists()
    assert "Traceback" not in err


def _wait_for_json(path: Path, timeout: float = 30) -> dict[str, object]:
    """The emulator writes its record once its edge serves, a moment after its banner."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return dict(json.loads(path.read_text()))
