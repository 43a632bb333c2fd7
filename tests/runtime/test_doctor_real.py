"""`tscloud ssr doctor` on the real builds: its table is what the runtime client measured, its findings follow.

The alpha.1 streaming build is flagged for the bodyless hang, the frozen headers and the pg pin;
current Nitro and TanStack Start are not flagged for a stream wrapper (their from() lives in
another file than streamifyResponse); buffered builds are not flagged for the pin; every build
with the ejected entry is clean.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.realapps import build as realapps
from tests.realapps.pg_standin import PgStandIn

PROBES = ("--probe", "/stream", "--probe", "/empty", "--probe", "/redirect", "--probe", "/object",
          "--probe", "/cookie", "--probe", "/db")


def doctor(cli: Any, build: Path, pg: PgStandIn, ric: Path, *extra: str) -> Any:
    result = cli("--output", "json", "ssr", "doctor", str(build), "--timeout", "4", *PROBES, *extra,
                 "--env", f"DATABASE_URL={pg.url}", "--env", "PG_IDLE_TIMEOUT_MS=2500",
                 env={"TSCLOUD_AWS_LAMBDA_RIC": str(ric)}, cwd=build.parent, timeout=240)
    assert result.code in (0, 1), result.output
    return result


def rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["request"]: r for r in doc["probes"]}


def test_alpha1_streaming_build(cli: Any, realapp: Callable[..., Path], pg: PgStandIn, ric: Path) -> None:
    result = doctor(cli, realapp("nitro-alpha1"), pg, ric, "--probe-bodyless")
    doc = result.json()
    assert result.code == 1 and doc["mode"] == "run" and doc["nitro"] == "3.0.1-alpha.1"
    table = rows(doc)
    assert list(table) == ["GET /", "GET /stream", "GET /empty", "GET /redirect", "GET /object", "GET /cookie",
                           "GET /db", "GET / (bodyless 204)"]
    for bodyless in ("GET /empty", "GET /redirect", "GET / (bodyless 204)"):
        assert table[bodyless]["timed_out"] and table[bodyless]["response_end_ms"] is None
        assert table[bodyless]["invocation_end_ms"] >= 4000 * 0.99
    assert table["GET /object"]["error"]["errorMessage"] == "Headers are frozen"
    assert table["GET /db"]["gap_ms"] >= 1000 and table["GET /stream"]["gap_ms"] < 1000
    assert table["GET /stream"]["response_end_ms"] - table["GET /stream"]["first_byte_ms"] >= 500
    codes = [f["code"] for f in doc["findings"]]
    assert codes == ["response-never-ends", "invocation-error", "event-loop-pin"]
    pin = doc["findings"][2]
    assert "GET /db" in pin["detail"] and "pg (server/node_modules/pg)" in pin["detail"]
    assert "Headers are frozen" in doc["findings"][1]["title"] and "3.0.1-alpha.1" in doc["findings"][1]["detail"]


@pytest.mark.parametrize("name", ["nitro-beta", "tanstack-start", "nitropack2"])
def test_current_streaming_builds(name: str, cli: Any, realapp: Callable[..., Path], pg: PgStandIn,
                                  ric: Path) -> None:
    doc = doctor(cli, realapp(name), pg, ric).json()
    # Not flagged for a stream wrapper; the pg pin is real on them too (nothing sets callbackWaits...).
    assert [f["code"] for f in doc["findings"]] == ["event-loop-pin"]
    table = rows(doc)
    assert table["GET /empty"]["status"] == 204 and not table["GET /empty"]["timed_out"]
    assert table["GET /redirect"]["status"] == 302 and table["GET /redirect"]["location"] == "/"
    assert table["GET /db"]["gap_ms"] >= 1000
    assert all(r["gap_ms"] < 1000 for k, r in table.items() if k != "GET /db")


@pytest.mark.parametrize("name", list(realapps.APPS))
def test_buffered_builds_are_not_flagged_for_the_pin(name: str, cli: Any, realapp: Callable[..., Path],
                                                     pg: PgStandIn, ric: Path) -> None:
    result = doctor(cli, realapp(name, streaming=False), pg, ric)
    doc = result.json()
    assert doc["streaming"] is False and all(r["gap_ms"] < 1000 for r in doc["probes"])
    assert "event-loop-pin" not in [f["code"] for f in doc["findings"]]
    if name != "nitro-alpha1":
        assert result.code == 0 and doc["findings"] == []


@pytest.mark.parametrize("name", list(realapps.APPS))
def test_ejected_builds_are_clean(name: str, cli: Any, realapp: Callable[..., Path], pg: PgStandIn,
                                  ric: Path) -> None:
    result = doctor(cli, realapp(name, ejected=True), pg, ric)
    assert result.code == 0, result.output
    assert result.json()["findings"] == []


def test_entry_for_another_nitro_fails_init(cli: Any, realapp: Callable[..., Path], pg: PgStandIn, ric: Path,
                                            tmp_path: Path) -> None:
    # What the nitro beta leaves after building an entry written for alpha.1 (it only warns).
    build = tmp_path / ".output"
    shutil.copytree(realapp("nitro-beta", ejected=True), build, symlinks=True)
    index = build / "server" / "index.mjs"
    index.write_text('import "#nitro-internal-pollyfills";\n' + index.read_text())
    doc = doctor(cli, build, pg, ric).json()
    (finding,) = doc["findings"]
    assert finding["code"] == "init-error" and "#nitro-internal-pollyfills" in finding["title"]
    assert "ERR_PACKAGE_IMPORT_NOT_DEFINED" in finding["detail"] and "eject-entry" in finding["fix"]
    assert doc["probes"] == []


def test_without_the_runtime_client_doctor_falls_back_to_static(cli: Any, realapp: Callable[..., Path],
                                                                tmp_path: Path) -> None:
    build = realapp("nitro-alpha1")
    result = cli("ssr", "doctor", str(build), env={"TSCLOUD_AWS_LAMBDA_RIC": str(tmp_path), "HOME": str(tmp_path)},
                 cwd=tmp_path)
    assert result.code == 1
    assert "aws-lambda-ric" in result.stdout and "static checks only" in result.stdout
    assert "[nitro-streaming-runtime]" in result.stdout and "[event-loop-db-pool]" in result.stdout
