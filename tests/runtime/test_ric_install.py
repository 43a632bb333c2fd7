"""tscloud installs AWS's runtime client itself: into its cache from empty, once, and says so in one line when it cannot.

The install is real (npm against the registry, the native client built or loaded here). The two
failures are made real too: no registry (npm pointed at a closed loopback port, with an empty npm
cache) and no build tools (a PATH holding only node and npm, where aws-lambda-ric 3.3.0's tarball
ships no native client that loads, so it would have to be built).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tscloud_py.lambda_runtime import NodeFunction
from tscloud_py.lambda_runtime.events import function_url_event, http_result
from tscloud_py.lambda_runtime.ric_install import (
    APT_PACKAGES,
    NATIVE,
    RIC_ENV,
    RIC_VERSION,
    RuntimeClientMissingError,
    ensure_ric,
)

# npm pointed at a closed loopback port, with no retries (npm's own backoff would only make the test slower).
OFFLINE = {"npm_config_registry": "http://127.0.0.1:9/", "npm_config_fetch_retries": "0"}


def test_installs_itself_into_an_empty_cache(self_installed: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    package = self_installed / "tscloud" / "aws-lambda-ric" / RIC_VERSION / "node_modules" / "aws-lambda-ric"
    assert (package / NATIVE).is_file() and (package / "bin" / "index.mjs").is_file()
    assert not list(self_installed.glob("tscloud/aws-lambda-ric/*.installing"))
    progress = (self_installed / "progress.txt").read_text()
    assert f"installing AWS's Lambda runtime client (aws-lambda-ric {RIC_VERSION}) into" in progress
    # Found again without installing: no progress line, the same directory.
    monkeypatch.setenv("XDG_CACHE_HOME", str(self_installed))
    monkeypatch.delenv(RIC_ENV, raising=False)
    again: list[str] = []
    assert ensure_ric(tmp_path, progress=again.append) == package and again == []
    # And it runs a function.
    (tmp_path / "index.mjs").write_text("export const handler = async () => ({ statusCode: 201, body: 'made' });\n")
    (tmp_path / "package.json").write_text('{"type": "module"}')
    with NodeFunction(tmp_path, timeout_s=10, ric=package) as fn:
        result = http_result(fn.invoke(function_url_event("GET", "/")))
    assert result.status == 201 and result.body == b"made"


def test_no_registry_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not on PATH")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.delenv(RIC_ENV, raising=False)
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeClientMissingError) as caught:
        ensure_ric()
    message = caught.value.message
    assert message.startswith(f"npm install of aws-lambda-ric {RIC_VERSION} failed: ") and "\n" not in message
    assert "127.0.0.1:9" in message
    assert not (tmp_path / "xdg" / "tscloud" / "aws-lambda-ric" / RIC_VERSION).exists()


def test_without_build_tools_one_line_names_the_packages_and_the_command(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not on PATH")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (node, npm):
        (bin_dir / Path(tool).name).symlink_to(os.path.realpath(tool))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(RIC_ENV, raising=False)
    with pytest.raises(RuntimeClientMissingError) as caught:
        ensure_ric()
    message = caught.value.message
    assert "has no native client that loads on" in message and "\n" not in message
    assert f"apt-get install -y {APT_PACKAGES}" in message
    assert f"npm install --prefix {tmp_path / 'xdg'}" in message and f"aws-lambda-ric@{RIC_VERSION}" in message


def test_a_built_client_that_loads_is_checked_with_node(self_installed: Path) -> None:
    native = self_installed / "tscloud" / "aws-lambda-ric" / RIC_VERSION / "node_modules" / "aws-lambda-ric" / NATIVE
    node = shutil.which("node")
    assert node is not None
    out = subprocess.run([node, "-e", "const c = require(process.argv[1]); console.log(typeof c.next)", str(native)],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"})
    assert out.returncode == 0 and out.stdout.strip() == "function"
