"""`tscloud ssr doctor` as a subprocess: exit codes 0/1/2 and the JSON document."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "nitro"


def test_clean_build_exits_0(cli: Any, tmp_path: Path) -> None:
    result = cli("ssr", "doctor", "--static", str(FIXTURES / "clean"), cwd=tmp_path)
    assert result.code == 0, result.output
    assert "no findings" in result.stdout


def test_findings_exit_1_with_fix(cli: Any, tmp_path: Path) -> None:
    result = cli("ssr", "doctor", "--static", str(FIXTURES / "entry-extension"), cwd=tmp_path)
    assert result.code == 1, result.output
    assert "[entry-extension]" in result.stdout and "fix:" in result.stdout


def test_json_lists_findings(cli: Any, tmp_path: Path) -> None:
    result = cli("--output", "json", "ssr", "doctor", "--static", str(FIXTURES / "no-handler"), cwd=tmp_path)
    assert result.code == 1, result.output
    doc = result.json()
    assert doc["ok"] is False and doc["mode"] == "static" and doc["preset"] == "aws-lambda"
    assert [f["code"] for f in doc["findings"]] == ["missing-handler"]
    assert {"code", "title", "detail", "fix", "file", "line"} <= set(doc["findings"][0])


def test_not_a_nitro_build_exits_2(cli: Any, tmp_path: Path) -> None:
    result = cli("ssr", "doctor", str(FIXTURES / "not-nitro"), cwd=tmp_path)
    assert result.code == 2, result.output
    assert "not a Nitro build" in result.stderr and "Traceback" not in result.stderr
    assert cli("ssr", "doctor", cwd=tmp_path).code == 2  # no .output here


def test_config_streaming_and_dir(cli: Any, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "clean", tmp_path / "web" / ".output")
    (tmp_path / "tscloud.toml").write_text(
        'app = "shop"\npreset = "ssr-app"\n[ssr]\ndir = "web/.output"\nstreaming = false\n')
    result = cli("--output", "json", "ssr", "doctor", "--static", cwd=tmp_path)
    assert result.code == 1, result.output
    assert [f["code"] for f in result.json()["findings"]] == ["streaming-mismatch"]
    (tmp_path / "tscloud.toml").write_text('app = "shop"\npreset = "ssr-app"\n[ssr]\ndir = "web/.output"\n')
    assert cli("ssr", "doctor", "--static", cwd=tmp_path).code == 0


@pytest.mark.parametrize(("args", "said"), [
    (("--probe", "FETCH /x"), "--probe: expected PATH or 'METHOD PATH'"),
    (("--probe", "users"), "--probe: expected a path starting with /"),
    (("--env", "NOVALUE"), "--env: expected KEY=VALUE, got 'NOVALUE'"),
])
def test_bad_flags_exit_2(cli: Any, tmp_path: Path, args: tuple[str, ...], said: str) -> None:
    result = cli("ssr", "doctor", "--static", str(FIXTURES / "clean"), *args, cwd=tmp_path)
    assert result.code == 2 and said in result.stderr and "Traceback" not in result.output


def test_env_file_errors_name_the_line_not_the_values(cli: Any, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=postgres://app:s3cret-pw@db.internal/app\nthis is not a variable\n")
    result = cli("ssr", "doctor", "--static", str(FIXTURES / "clean"), "--env-file", str(env_file), cwd=tmp_path)
    assert result.code == 2 and f"--env-file {env_file}:2: expected KEY=VALUE" in result.stderr
    assert "s3cret-pw" not in result.output
    missing = cli("ssr", "doctor", "--static", str(FIXTURES / "clean"), "--env-file", "nope.env", cwd=tmp_path)
    assert missing.code == 2 and "--env-file nope.env: cannot read it" in missing.stderr


def _nitro_project(root: Path, package: str, version: str) -> None:
    (root / "node_modules" / package).mkdir(parents=True)
    (root / "node_modules" / package / "package.json").write_text(json.dumps({"name": package, "version": version}))


def test_eject_entry(cli: Any, tmp_path: Path) -> None:
    _nitro_project(tmp_path, "nitro", "3.0.260903-beta")
    result = cli("--output", "json", "ssr", "eject-entry", "--dir", "web/src/nitro", cwd=tmp_path)
    assert result.code == 0, result.output
    doc = result.json()
    assert doc["entry"] == "web/src/nitro/aws-lambda-response"
    assert doc["nitro"] == {"package": "nitro", "version": "3.0.260903-beta", "polyfills": "#nitro/virtual/polyfills"}
    assert doc["streaming"] is None  # no build yet
    assert [f["status"] for f in doc["files"]] == ["written", "written"]
    streaming = (tmp_path / "web/src/nitro/aws-lambda-response-streaming.mjs").read_text()
    for needle in ('import "#nitro/virtual/polyfills";', 'from "nitro/app"', "awslambda.streamifyResponse",
                   "awslambda.HttpResponseStream.from(responseStream", 'responseStream.write("")',
                   "pipeline(Readable.fromWeb(response.body), responseStream)",
                   "context.callbackWaitsForEmptyEventLoop = false", "request.runtime.aws ??= { event, context }"):
        assert needle in streaming
    assert "#nitro-internal-pollyfills" not in streaming
    assert "callbackWaitsForEmptyEventLoop = false" in (tmp_path / "web/src/nitro/aws-lambda-response.mjs").read_text()
    # a changed file is not overwritten without --force
    (tmp_path / "web/src/nitro/aws-lambda-response.mjs").write_text("// mine\n")
    result = cli("ssr", "eject-entry", "--dir", "web/src/nitro", cwd=tmp_path)
    assert result.code == 2 and "--force" in result.stderr
    assert cli("ssr", "eject-entry", "--dir", "web/src/nitro", "--force", cwd=tmp_path).code == 0
    assert "streamifyResponse" not in (tmp_path / "web/src/nitro/aws-lambda-response.mjs").read_text()


@pytest.mark.parametrize(("package", "version", "polyfills", "app_module"), [
    ("nitro", "3.0.1-alpha.1", "#nitro-internal-pollyfills", "nitro/app"),
    ("nitro", "3.0.1-alpha.2", "#nitro/virtual/polyfills", "nitro/app"),
    ("nitropack", "2.13.6", "#nitro-internal-pollyfills", "nitropack/runtime"),
])
def test_eject_entry_follows_the_installed_nitro(cli: Any, tmp_path: Path, package: str, version: str,
                                                 polyfills: str, app_module: str) -> None:
    _nitro_project(tmp_path, package, version)
    shutil.copytree(FIXTURES / "clean", tmp_path / ".output")
    result = cli("ssr", "eject-entry", cwd=tmp_path)
    assert result.code == 0, result.output
    assert f"detected: {package} {version}; polyfills import {polyfills}; streaming: streaming" in result.output
    assert 'nitro({ preset: "aws-lambda", entry: "./src/nitro/aws-lambda-response", awsLambda: { streaming: true } })' \
        in result.output
    for name in ("aws-lambda-response.mjs", "aws-lambda-response-streaming.mjs"):
        text = (tmp_path / "src/nitro" / name).read_text()
        assert f'import "{polyfills}";' in text and f'from "{app_module}"' in text


def test_eject_entry_without_nitro_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    result = cli("ssr", "eject-entry", cwd=tmp_path)
    assert result.code == 2 and "no nitro or nitropack" in result.stderr
    assert not (tmp_path / "src").exists()
