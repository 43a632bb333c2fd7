"""The local Runtime API against AWS's runtime client, on real builds: what each built-in Nitro runtime does.

These are the measured facts doctor, verify and the emulator rely on (the figures in the issue):
alpha.1's streaming runtime streams through the from() wrapper, never ends a bodyless response
(the invocation runs to its timeout), throws "Headers are frozen" for a plain-object route, and a
pg pool holds the invocation open after its response; buffered builds answer without the pin.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tscloud_py.lambda_runtime import NodeFunction
from tscloud_py.lambda_runtime.events import function_url_event, http_result, rest_proxy_event

TIMEOUT_S = 6.0


def _fn(build: Path, ric: Path, env: dict[str, str]) -> NodeFunction:
    return NodeFunction(build / "server", timeout_s=TIMEOUT_S, env=env, ric=ric)


def test_alpha1_streaming_runtime(realapp: Callable[..., Path], ric: Path, app_env: dict[str, str]) -> None:
    with _fn(realapp("nitro-alpha1"), ric, app_env) as fn:
        stream = fn.invoke(function_url_event("GET", "/stream"))
        assert stream.error is None and stream.streaming
        assert stream.prelude is not None and stream.prelude["statusCode"] == 200
        assert http_result(stream).body.decode().count("<p>chunk") == 5
        # Chunks really arrive over time (about 250 ms apart), not all at the end.
        assert len(stream.chunks) >= 4
        assert stream.chunk_ms[-1] - stream.chunk_ms[0] >= 500
        assert fn.init_ms is not None and fn.init_ms > 0

        empty = fn.invoke(function_url_event("GET", "/empty"))
        assert empty.timed_out and empty.response_end_at is None
        assert empty.error is not None and empty.error["errorType"] == "Sandbox.Timedout"
        assert empty.end_ms is not None and empty.end_ms >= TIMEOUT_S * 1000 * 0.99

        frozen = fn.invoke(function_url_event("GET", "/object"))
        assert frozen.error is not None and "Headers are frozen" in frozen.error.get("errorMessage", "")
        assert http_result(frozen).status == 502

        db = fn.invoke(function_url_event("GET", "/db"))
        assert http_result(db).status == 200 and b'"one"' in http_result(db).body
        assert db.gap_ms is not None and db.gap_ms >= 1000  # pg's idle client (2.5 s here) holds the loop
        assert fn.cold_starts == 2  # the timeout killed the environment once


def test_current_nitro_streaming_runtime_ends_bodyless_responses(
        realapp: Callable[..., Path], ric: Path, app_env: dict[str, str]) -> None:
    with _fn(realapp("nitro-beta"), ric, app_env) as fn:
        redirect = fn.invoke(function_url_event("GET", "/redirect"))
        assert not redirect.timed_out and redirect.prelude is not None
        assert http_result(redirect).status == 302 and http_result(redirect).header("location") == "/"
        cookie = http_result(fn.invoke(function_url_event("GET", "/cookie", headers=[("cookie", "a=1")])))
        assert sorted(v for k, v in cookie.headers if k == "set-cookie") == [
            "session=abc; Path=/; HttpOnly", "theme=dark; Path=/"]
        db = fn.invoke(function_url_event("GET", "/db"))
        assert db.gap_ms is not None and db.gap_ms >= 1000


@pytest.mark.parametrize("name", ["nitro-alpha1", "nitro-beta", "nitropack2", "tanstack-start"])
def test_buffered_builds_answer_without_the_pin(
        name: str, realapp: Callable[..., Path], ric: Path, app_env: dict[str, str]) -> None:
    with _fn(realapp(name, streaming=False), ric, app_env) as fn:
        db = fn.invoke(function_url_event("GET", "/db"))
        assert not db.streaming and http_result(db).status == 200
        assert db.gap_ms is not None and db.gap_ms < 1000
        rest = http_result(fn.invoke(rest_proxy_event("GET", "/redirect")))
        assert rest.status == 302 and rest.header("location") == "/"


def test_init_error_is_recorded(tmp_path: Path, ric: Path) -> None:
    (tmp_path / "index.mjs").write_text('import "#nitro/virtual/polyfills";\nexport const handler = async () => 1;\n')
    (tmp_path / "package.json").write_text('{"type": "module"}')
    with NodeFunction(tmp_path, timeout_s=TIMEOUT_S, ric=ric) as fn:
        inv = fn.invoke(function_url_event("GET", "/"))
        assert fn.init_error is not None
        assert inv.error is not None and "ERR_PACKAGE_IMPORT_NOT_DEFINED" in str(inv.error) + str(fn.init_error)
