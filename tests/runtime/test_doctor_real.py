"""`tscloud ssr doctor` on the real builds, under the runtime client tscloud installed itself: every route is found
and probed, its table is what the runtime client measured, its findings follow.

The alpha.1 streaming build is flagged for the bodyless hang, the frozen headers and the pg pin on the route
that queries (or, with no database to reach, the pool as a risk not exercised); current Nitro and TanStack
Start are not flagged for a stream wrapper (their from() lives in another file than streamifyResponse);
buffered builds are not flagged for the pin; every build with the ejected entry is clean.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.realapps import build as realapps
from tests.realapps.pg_standin import PgStandIn
from tests.runtime.test_ric_install import OFFLINE
from tscloud_py.lambda_runtime.ric_install import RIC_ENV

ROUTES = ["GET /", "GET /cookie", "GET /db", "GET /empty", "GET /object", "GET /redirect", "GET /stream"]
SHORT_IDLE = ("--env", "PG_IDLE_TIMEOUT_MS=2500")


def doctor(cli: Any, build: Path, env: dict[str, str], *extra: str, timeout: str = "4") -> Any:
    result = cli("--output", "json", "ssr", "doctor", str(build), "--timeout", timeout, *extra,
                 env=env, cwd=build.parent, timeout=300)
    assert result.code in (0, 1), result.output
    assert "Traceback" not in result.output
    return result


def rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["request"]: r for r in doc["probes"]}


def test_alpha1_streaming_build_with_its_database(cli: Any, realapp: Callable[..., Path], pg: PgStandIn,
                                                  installed_env: dict[str, str]) -> None:
    # pg's own idle timeout (10 s) as in the field: the pin is measured whole, under a 12 s function timeout.
    result = doctor(cli, realapp("nitro-alpha1"), installed_env, "--env", f"DATABASE_URL={pg.url}", timeout="12")
    doc = result.json()
    assert result.code == 1 and doc["mode"] == "run" and doc["nitro"] == "3.0.1-alpha.1"
    table = rows(doc)
    assert list(table) == ROUTES and not any(r["given"] or r["sampled"] for r in table.values())
    for bodyless in ("GET /empty", "GET /redirect"):
        assert table[bodyless]["timed_out"] and table[bodyless]["response_end_ms"] is None
        assert table[bodyless]["invocation_end_ms"] >= 12000 * 0.99
    assert table["GET /object"]["error"]["errorMessage"] == "Headers are frozen"
    assert table["GET /db"]["gap_ms"] >= 9000 and table["GET /db"]["connected"] == ["pg"]
    assert table["GET /stream"]["gap_ms"] < 1000
    assert table["GET /stream"]["response_end_ms"] - table["GET /stream"]["first_byte_ms"] >= 500
    assert doc["connected"] == {"pg": ["GET /db"]} and doc["worst_gap"]["request"] == "GET /db"
    codes = [f["code"] for f in doc["findings"]]
    assert codes == ["response-never-ends", "invocation-error", "event-loop-pin"]
    never, frozen, pin = doc["findings"]
    assert "GET /empty, GET /redirect" in never["detail"] and "12 s timeout" in never["detail"]
    assert "Headers are frozen" in frozen["title"] and "3.0.1-alpha.1" in frozen["detail"]
    assert "GET /db: response" in pin["detail"] and "worst gap" in pin["detail"]
    assert "pg (connected during the request; imported at server/chunks/routes/db.mjs:1)" in pin["detail"]


def test_alpha1_streaming_build_without_a_database(cli: Any, realapp: Callable[..., Path],
                                                   installed_env: dict[str, str]) -> None:
    result = doctor(cli, realapp("nitro-alpha1"), installed_env, "--probe-bodyless")
    doc = result.json()
    table = rows(doc)
    assert result.code == 1 and list(table) == [*ROUTES, "GET / (bodyless 204)"]
    for bodyless in ("GET /empty", "GET /redirect", "GET / (bodyless 204)"):
        assert table[bodyless]["timed_out"] and table[bodyless]["invocation_end_ms"] >= 4000 * 0.99
    assert doc["connected"] == {} and table["GET /db"]["connected"] == []
    assert [f["code"] for f in doc["findings"]] == ["response-never-ends", "invocation-error", "db-pool-not-exercised"]
    risk = doc["findings"][2]
    assert risk["title"] == "pg pool: at risk, not exercised" and "none of the 8 probes connected it" in risk["detail"]
    assert (risk["file"], risk["line"]) == ("server/chunks/routes/db.mjs", 1)
    assert "--env DATABASE_URL=" in risk["fix"] and "callbackWaitsForEmptyEventLoop = false" in risk["fix"]


@pytest.mark.parametrize("name", ["nitro-beta", "tanstack-start", "nitropack2"])
def test_current_streaming_builds(name: str, cli: Any, realapp: Callable[..., Path], pg: PgStandIn,
                                  installed_env: dict[str, str]) -> None:
    doc = doctor(cli, realapp(name), installed_env, "--env", f"DATABASE_URL={pg.url}", *SHORT_IDLE).json()
    table = rows(doc)
    assert list(table) == ROUTES  # every route, found in the build
    # Not flagged for a stream wrapper; the pg pin is real on them too (nothing sets callbackWaits...).
    assert [f["code"] for f in doc["findings"]] == ["event-loop-pin"]
    assert table["GET /empty"]["status"] == 204 and not table["GET /empty"]["timed_out"]
    assert table["GET /redirect"]["status"] == 302 and table["GET /redirect"]["location"] == "/"
    assert table["GET /db"]["gap_ms"] >= 1000 and doc["connected"] == {"pg": ["GET /db"]}
    assert all(r["gap_ms"] < 1000 for k, r in table.items() if k != "GET /db")


def test_a_user_probe_and_an_env_file(cli: Any, realapp: Callable[..., Path], pg: PgStandIn,
                                      installed_env: dict[str, str], tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"DATABASE_URL={pg.url}\nPG_IDLE_TIMEOUT_MS=1500\n")
    doc = doctor(cli, realapp("nitro-beta"), installed_env, "--env-file", str(env_file),
                 "--probe", "/db?fresh=1", "--probe", "POST /db").json()
    table = rows(doc)
    assert list(table) == [*ROUTES, "GET /db?fresh=1", "POST /db"]
    assert table["GET /db?fresh=1"]["given"] and table["POST /db"]["status"] == 200
    assert table["GET /db"]["connected"] == ["pg"] and table["GET /db"]["gap_ms"] >= 1000


@pytest.mark.parametrize("name", list(realapps.APPS))
def test_buffered_builds_are_not_flagged_for_the_pin(name: str, cli: Any, realapp: Callable[..., Path],
                                                     pg: PgStandIn, installed_env: dict[str, str]) -> None:
    result = doctor(cli, realapp(name, streaming=False), installed_env, "--env", f"DATABASE_URL={pg.url}",
                    *SHORT_IDLE)
    doc = result.json()
    assert doc["streaming"] is False and all(r["gap_ms"] < 1000 for r in doc["probes"])
    assert "event-loop-pin" not in [f["code"] for f in doc["findings"]]
    if name != "nitro-alpha1":
        assert result.code == 0 and doc["findings"] == []


@pytest.mark.parametrize("name", list(realapps.APPS))
def test_ejected_builds_are_clean(name: str, cli: Any, realapp: Callable[..., Path], pg: PgStandIn,
                                  installed_env: dict[str, str]) -> None:
    """Done 2: pg's own idle timeout, no finding, every route's gap well under the pin."""
    result = doctor(cli, realapp(name, ejected=True), installed_env, "--env", f"DATABASE_URL={pg.url}")
    assert result.code == 0, result.output
    doc = result.json()
    assert doc["findings"] == [] and list(rows(doc)) == ROUTES
    assert all(r["gap_ms"] is not None and r["gap_ms"] < 500 for r in doc["probes"]), doc["probes"]
    assert doc["connected"] == {"pg": ["GET /db"]}


def test_entry_for_another_nitro_fails_init(cli: Any, realapp: Callable[..., Path], installed_env: dict[str, str],
                                            tmp_path: Path) -> None:
    # What the nitro beta leaves after building an entry written for alpha.1 (it only warns).
    build = tmp_path / ".output"
    shutil.copytree(realapp("nitro-beta", ejected=True), build, symlinks=True)
    index = build / "server" / "index.mjs"
    index.write_text('import "#nitro-internal-pollyfills";\n' + index.read_text())
    doc = doctor(cli, build, installed_env).json()
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
    assert "aws-lambda-ric" in result.stdout and "static checks ran" in result.stdout
    assert "[nitro-streaming-runtime]" in result.stdout and "[event-loop-db-pool]" in result.stdout


def test_offline_doctor_runs_the_static_checks(cli: Any, realapp: Callable[..., Path], tmp_path: Path) -> None:
    """Done 4: an empty cache and no registry: one line, the static findings, their exit code, no traceback."""
    build = realapp("nitro-alpha1")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "npm_config_cache": str(tmp_path / "npm-cache"), RIC_ENV: "",
           **OFFLINE}
    result = cli("ssr", "doctor", str(build), env=env, cwd=tmp_path)
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    said = [line for line in result.stdout.splitlines() if "runtime client" in line]
    assert len(said) == 1
    assert "could not be installed" in said[0] and "static checks ran" in said[0] and "127.0.0.1:9" in said[0]
    assert "[nitro-streaming-runtime]" in result.stdout and "[event-loop-db-pool]" in result.stdout
    assert "server/index.mjs:" in result.stdout  # a static finding names the file and the line
