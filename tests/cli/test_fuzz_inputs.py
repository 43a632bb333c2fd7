"""Whatever the user's inputs are, `tscloud plan` answers with an exit code of 0, 1 or 2 and never an
internal error or a traceback: config bytes (random, or a valid config with bytes changed, a BOM, cut
short), what lies under the site directory (FIFOs, sockets, symlink loops, dangling and escaping links,
odd names), and the environment variables tscloud reads (lease, provider URLs, the endpoint).

Hypothesis drives each; the example counts keep the whole file within about a minute on CI, each example
being one real CLI run against the session's moto server (plan writes nothing)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import MotoServer, run_cli

VALID = b'app = "fuzz-site"\npreset = "static-site"\nregion = "us-east-1"\n\n[site]\ndir = "dist"\nspa = true\n'
RUN = settings(max_examples=12, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _plan(project: Path, endpoint: str, env: dict[str, str] | None = None) -> None:
    result = run_cli("--endpoint-url", endpoint, "plan", cwd=project, env=env, timeout=120)
    assert result.code in (0, 1, 2), result.output[-3000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr[-3000:]
    if result.code == 2:
        assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


def _project(root: Path, config: bytes = VALID) -> Path:
    if root.exists():
        shutil.rmtree(root)
    (root / "dist").mkdir(parents=True)
    (root / "dist" / "index.html").write_text("<h1>hi</h1>")
    (root / "tscloud.toml").write_bytes(config)
    return root


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        byte = draw(st.integers(0, 255))
        if how == "replace" and at < len(data):
            data[at] = byte
        elif how == "insert":
            data.insert(at, byte)
        elif how == "delete" and at < len(data):
            del data[at]
        elif how == "cut":
            del data[at:]
    return bytes(data)


CONFIGS = st.one_of(
    st.binary(max_size=200),
    mutated(),
    st.just(b"\xef\xbb\xbf" + VALID),
    st.just(VALID.replace(b'"dist"', b'"' + b"../" * 50 + b'"')),
    st.just(VALID + b"[site.x]\n" * 3),
)


@RUN
@given(config=CONFIGS)
def test_any_config_bytes(config: bytes, moto_server: MotoServer, tmp_path: Path) -> None:
    _plan(_project(tmp_path / "p", config), moto_server.endpoint)


ENTRIES = ["fifo", "socket", "loop", "dangling", "outside", "dir-loop", "latin1-name", "long-name",
           "empty-dir", "unreadable-dir", "deep"]


def _make(dist: Path, kind: str, i: int) -> None:
    name = f"e{i}"
    if kind == "fifo":
        os.mkfifo(dist / name)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(str(dist / name))
        except OSError:
            pass  # a path too long for a socket address: nothing made
        finally:
            sock.close()
    elif kind == "loop":
        os.symlink(f"{name}b", dist / name)
        os.symlink(name, dist / f"{name}b")
    elif kind == "dangling":
        os.symlink("nowhere", dist / name)
    elif kind == "outside":
        os.symlink("/etc/hostname", dist / name)
    elif kind == "dir-loop":
        (dist / name).mkdir()
        os.symlink("..", dist / name / "up")
    elif kind == "latin1-name":
        os.mkdir(os.fsencode(dist) + b"/" + name.encode() + b"\xe9")
    elif kind == "long-name":
        (dist / ("x" * 250)).write_text("x")
    elif kind == "empty-dir":
        (dist / name).mkdir()
    elif kind == "unreadable-dir":
        (dist / name).mkdir(mode=0)
    elif kind == "deep":
        deep = dist / name
        for level in range(40):
            deep = deep / f"d{level}"
        deep.mkdir(parents=True)
        (deep / "f.txt").write_text("x")


@RUN
@given(kinds=st.lists(st.sampled_from(ENTRIES), min_size=1, max_size=3))
def test_any_file_types_under_the_site_dir(kinds: list[str], moto_server: MotoServer, tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    try:
        for i, kind in enumerate(kinds):
            _make(project / "dist", kind, i)
        _plan(project, moto_server.endpoint)
    finally:
        for path in (project / "dist").rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)


TEXT = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e308", "0", "-1", "abc", "", " ", "1" * 400,
                                  "http://[::1", "file:///etc/passwd", "http://", "https://example.com:99999",
                                  "http://127.0.0.1:1", "javascript:alert(1)", "\x1b]52;c;eA==\x07"]),
                 st.text(max_size=40).filter(lambda t: "\x00" not in t))
VARIABLES = ["TSCLOUD_LOCK_LEASE_SECONDS", "TSCLOUD_CLOUDFLARE_API_URL", "TSCLOUD_PORKBUN_API_URL",
             "TSCLOUD_GODADDY_API_URL", "AWS_ENDPOINT_URL", "GODADDY_ENVIRONMENT", "AWS_REGION"]


@RUN
@given(values=st.dictionaries(st.sampled_from(VARIABLES), TEXT, min_size=1, max_size=3))
def test_any_environment_values(values: dict[str, str], moto_server: MotoServer, tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    _plan(project, moto_server.endpoint, env=values)


@pytest.mark.parametrize("lease", ["nan", "inf", "-1", "abc", "1e308"])
def test_a_lease_variable_out_of_range_is_named(lease: str, tmp_path: Path) -> None:
    result = run_cli("plan", cwd=_project(tmp_path / "p"), env={"TSCLOUD_LOCK_LEASE_SECONDS": lease}, timeout=60)
    assert result.code == 2, result.output
    assert "TSCLOUD_LOCK_LEASE_SECONDS" in result.stderr and len(result.stderr.splitlines()) <= 2


@pytest.mark.parametrize("url", ["http://[::1", "file:///etc/passwd", "http://"])
def test_a_provider_url_variable_that_is_not_http_is_named(url: str, tmp_path: Path) -> None:
    result = run_cli("plan", cwd=_project(tmp_path / "p"), env={"TSCLOUD_CLOUDFLARE_API_URL": url}, timeout=60)
    assert result.code == 2, result.output
    assert "TSCLOUD_CLOUDFLARE_API_URL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("case", ["bom", "proc-mem", "symlink-loop"])
def test_inputs_that_were_internal_errors(case: str, moto_server: MotoServer, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", b"\xef\xbb\xbf" + VALID if case == "bom" else VALID)
    args = ["--config", "/proc/self/mem"] if case == "proc-mem" else []
    if case == "symlink-loop":
        _make(project / "dist", "loop", 0)
    result = run_cli("--endpoint-url", moto_server.endpoint, *args, "plan", cwd=project, timeout=120)
    if case == "bom":  # an editor's byte order mark is not part of the config
        assert result.code == 0, result.output
        return
    assert result.code == 2, result.output
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert ("symlink loop" if case == "symlink-loop" else "/proc/self/mem") in result.stderr
