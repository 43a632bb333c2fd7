"""A local cloud that lasts (issue 22, "Done means" 1, 2, 4, 5, 6): one emulator per user, started in the
background by the first --local command, kept across commands, `local stop` and restarts; one record whether
it is reached by --local or --endpoint-url; safe to leave running. Real emulator processes, fresh HOMEs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.site_support import make_site
from tests.conftest import REPO, CliResult, run_cli

URL_LOCAL = re.compile(r"^url_local\s+(http://127\.0\.0\.1:\d+/)$", re.M)


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A HOME with nothing in it and no XDG_STATE_HOME: the emulator lives under ~/.local/state."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    yield home / ".local" / "state" / "tscloud" / "emulator"
    from tscloud_py.emulator.daemon import stop

    if (home / ".local" / "state" / "tscloud" / "emulator").exists():
        stop(home / ".local" / "state" / "tscloud" / "emulator")


def copy_static_example(root: Path) -> Path:
    shutil.copytree(REPO / "examples" / "static-site", root / "examples" / "static-site",
                    ignore=shutil.ignore_patterns(".tscloud"))
    return root


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def emulator_pids(state_home: Path) -> list[int]:
    """Every live `local serve` process whose emulator home is ``state_home`` (by its working directory)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"serve" in cmdline and b"local" in cmdline and cwd == str(state_home):
            pids.append(int(proc.name))
    return pids


def test_static_site_lasts_across_commands_stop_and_restart(tmp_path: Path, fresh_home: Path) -> None:
    root = copy_static_example(tmp_path)
    config = ("--config", "examples/static-site/tscloud.toml")
    first = run_cli(*config, "--local", "deploy", cwd=root)
    assert first.code == 0, first.output
    found = URL_LOCAL.search(first.stdout)
    assert found, first.stdout
    url = found.group(1)
    index = (REPO / "examples" / "static-site" / "dist" / "index.html").read_bytes()
    status, _, body = get(url)
    assert (status, body) == (200, index)

    outputs = run_cli(*config, "--local", "--output", "json", "outputs", cwd=root)
    assert outputs.code == 0, outputs.output
    assert outputs.json()["url_local"] == url and outputs.json()["bucket"] in first.stdout

    again = run_cli(*config, "--local", "--output", "json", "deploy", cwd=root)
    assert again.code == 0, again.output
    assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}
    assert again.json()["requests"]["resource"]["writes"] == 0
    assert again.json()["outputs"] == outputs.json()

    # What lasts is the user's: a 0700 directory, every file in it 0600.
    assert (fresh_home.stat().st_mode & 0o777) == 0o700
    assert {p.name: p.stat().st_mode & 0o777 for p in fresh_home.iterdir() if p.stat().st_mode & 0o077} == {}

    stopped = run_cli("local", "stop", cwd=root)
    assert stopped.code == 0 and "emulator stopped" in stopped.stdout, stopped.output
    assert emulator_pids(fresh_home) == []
    plan = run_cli(*config, "--local", "--output", "json", "plan", cwd=root)
    assert plan.code == 0, plan.output
    assert {s["action"] for s in plan.json()["steps"]} == {"none"}
    status, _, body = get(url)
    assert (status, body) == (200, index)

    state = run_cli("--output", "json", "local", "status", cwd=root)
    assert state.code == 0, state.output
    doc = state.json()
    assert doc["running"] and doc["apps"] == {"hello-site": ["dev"]}
    assert [d["url"] for d in doc["distributions"].values()] == [url]


def test_endpoint_url_and_local_keep_one_record(tmp_path: Path, _own_emulator_home: Path) -> None:
    project = make_site(tmp_path / "p", "one-record")
    serve = subprocess.Popen([sys.executable, "-m", "tscloud_py", "local", "serve"], cwd=project,
                             env={**os.environ, "CI": "1", "PYTHONPATH": str(REPO)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert serve.stdout is not None
        endpoint = re.search(r"on (http://127\.0\.0\.1:\d+)", serve.stdout.readline())
        assert endpoint, "no banner"
        home = _own_emulator_home / "tscloud" / "emulator"
        deadline = time.monotonic() + 30
        while not (home / "emulator.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        deployed = run_cli("--endpoint-url", endpoint.group(1), "--output", "json", "deploy", cwd=project)
        assert deployed.code == 0, deployed.output
        assert deployed.json()["outputs"]["url_local"].startswith("http://127.0.0.1:")

        seen = run_cli("--local", "--output", "json", "outputs", cwd=project)
        assert seen.code == 0, seen.output
        assert seen.json() == deployed.json()["outputs"]
        plan = run_cli("--local", "--output", "json", "plan", cwd=project)
        assert {s["action"] for s in plan.json()["steps"]} == {"none"}, plan.output
        gone = run_cli("--local", "--yes", "destroy", cwd=project)
        assert gone.code == 0, gone.output
        after = run_cli("--endpoint-url", endpoint.group(1), "outputs", cwd=project)
        assert after.code == 2 and "no recorded deploy" in after.stderr, after.output
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=30)


def test_two_commands_starting_at_once_make_one_emulator(tmp_path: Path, _own_emulator_home: Path) -> None:
    projects = [make_site(tmp_path / name, name) for name in ("race-a", "race-b")]
    results: dict[str, CliResult] = {}

    def deploy(project: Path) -> None:
        results[project.name] = run_cli("--local", "deploy", cwd=project)

    threads = [threading.Thread(target=deploy, args=(p,)) for p in projects]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results.values():
        assert result.code == 0, result.output
    endpoints = {re.search(r"local emulator: (\S+)", r.stderr).group(1) for r in results.values()}  # type: ignore[union-attr]
    assert len(endpoints) == 1, endpoints
    home = _own_emulator_home / "tscloud" / "emulator"
    assert len(emulator_pids(home)) == 1
    assert (home / "emulator.log").read_text().count("--- starting") == 1


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


def _listening_addresses(pid: int) -> set[str]:
    """The local addresses of every TCP socket ``pid`` listens on (from /proc/net/tcp{,6})."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with_target = os.readlink(fd) if fd.is_symlink() else ""
        if with_target.startswith("socket:["):
            inodes.add(with_target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(fields[1].split(":")[0])
    return found


def test_the_emulator_is_safe_to_leave_running(tmp_path: Path, _own_emulator_home: Path) -> None:
    from tscloud_py.emulator.daemon import ensure_running
    from tscloud_py.emulator.home import admin_token

    project = make_site(tmp_path / "p", "guarded")
    deployed = run_cli("--local", "deploy", cwd=project)
    assert deployed.code == 0, deployed.output
    emulator = ensure_running()
    endpoint = emulator.endpoint
    port = int(endpoint.rsplit(":", 1)[1])

    # A page on another site: no CORS grant, no state, preflight or not.
    for method in ("GET", "OPTIONS"):
        req = urllib.request.Request(f"{endpoint}/", method=method,
                                     headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("a cross-site request was answered")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
            assert not any(k.lower().startswith("access-control-") for k in exc.headers)
            assert b"guarded" not in exc.read()
    # The admin endpoints need the user's token; a DNS-rebinding Host is refused.
    assert get(f"{endpoint}/moto-api/data.json")[0] == 403
    status, _, body = get(f"{endpoint}/moto-api/data.json", {"X-Tscloud-Token": admin_token()})
    assert status == 200 and b"guarded" in body
    assert get(f"{endpoint}/", {"Host": f"rebind.evil.example:{port}"})[0] == 403
    assert get(f"{endpoint}/", {"Host": f"localhost:{port}"})[0] == 200

    # A chunked body claiming 256 TB: 413, and the emulator's memory stays flat.
    before = _rss_kb(emulator.pid)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"PUT /guarded-x/key HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\n".encode())
        zeros = b"\0" * (1024 * 1024)
        try:
            for _ in range(200):
                sock.sendall(zeros)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert _rss_kb(emulator.pid) - before < 64 * 1024

    # Nothing listens beyond loopback: the emulator's port, its edge's, its Function URLs'.
    addresses = _listening_addresses(emulator.pid)
    assert addresses and addresses <= {"0100007F", "00000000000000000000000001000000"}, addresses


def test_an_unreadable_snapshot_is_moved_aside_with_one_line(tmp_path: Path, _own_emulator_home: Path) -> None:
    project = make_site(tmp_path / "p", "cut-short")
    deployed = run_cli("--local", "deploy", cwd=project)
    assert deployed.code == 0, deployed.output
    assert run_cli("local", "stop", cwd=project).code == 0
    home = _own_emulator_home / "tscloud" / "emulator"
    snapshot = home / "snapshot.bin"
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])

    plan = run_cli("--local", "plan", cwd=project)
    assert plan.code == 0, plan.output
    notes = [ln for ln in plan.stderr.splitlines() if "snapshot" in ln]
    assert len(notes) == 1, plan.stderr
    moved = re.search(r"moved to (\S+),", notes[0])
    assert moved and Path(moved.group(1)).exists() and Path(moved.group(1)).parent == home, notes
    assert "Traceback" not in plan.output
    assert re.search(r"^\s*create\s+bucket", plan.stdout, re.M), plan.stdout
    assert json.loads((home / "emulator.json").read_text())["notice"]


def test_an_emulator_that_does_not_answer_is_still_stopped(tmp_path: Path, _own_emulator_home: Path) -> None:
    """A frozen (or overloaded) emulator answers no health check; stopping it goes by its pid file."""
    from tscloud_py.emulator.daemon import ensure_running, stop

    home = _own_emulator_home / "tscloud" / "emulator"
    pid = ensure_running().pid
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped = stop(home, timeout=2)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert stopped is not None and stopped.pid == pid
    deadline = time.monotonic() + 10
    while emulator_pids(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert emulator_pids(home) == []
