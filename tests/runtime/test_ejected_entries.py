"""Every real app rebuilt with the entry files `tscloud ssr eject-entry` writes, under AWS's runtime client.

Each probe route must end its invocation right after its response (the pin is >= 1 s by
construction: pg's idle client is held 2.5 s), keep its status, Location and cookies, and the
streaming route must arrive in more than one chunk. The gap is bounded loosely here (the machine
is shared); bench/ssr_runtime.py reports the measured gaps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.realapps import build as realapps
from tscloud_py.lambda_runtime import NodeFunction
from tscloud_py.lambda_runtime.events import function_url_event, http_result, rest_proxy_event

GAP_BOUND_MS = 500.0
EXPECTED = {"/": 200, "/stream": 200, "/empty": 204, "/redirect": 302, "/object": 200, "/cookie": 200, "/db": 200}


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "buffered"])
@pytest.mark.parametrize("name", list(realapps.APPS))
def test_ejected_entry_passes_every_probe(name: str, streaming: bool, realapp: Callable[..., Path], ric: Path,
                                          app_env: dict[str, str]) -> None:
    build = realapp(name, streaming=streaming, ejected=True)
    with NodeFunction(build / "server", timeout_s=8, env=app_env, ric=ric) as fn:
        for path, status in EXPECTED.items():
            inv = fn.invoke(function_url_event("GET", path, headers=[("cookie", "a=1")]))
            result = http_result(inv)
            assert inv.error is None and not inv.timed_out, (path, inv.summary(), list(fn.logs)[-5:])
            assert result.status == status, (path, inv.summary())
            assert inv.gap_ms is not None and inv.gap_ms <= GAP_BOUND_MS, (path, inv.summary())
            assert inv.streaming is streaming
            if path == "/redirect":
                assert result.header("location") == "/"
            if path == "/cookie":
                assert sorted(v for k, v in result.headers if k == "set-cookie") == [
                    "session=abc; Path=/; HttpOnly", "theme=dark; Path=/"]
            if path == "/stream":
                assert result.body.decode().count("<p>chunk") == 5
                if streaming:
                    assert len(inv.chunks) >= 3 and inv.chunk_ms[-1] - inv.chunk_ms[0] >= 500
            if path == "/object" and realapps.APPS[name].plain_object:
                assert b'"kind"' in result.body
        # The REST API's Lambda proxy integration (payload 1.0) keeps cookies as multiValueHeaders.
        rest = http_result(fn.invoke(rest_proxy_event("GET", "/cookie")))
        assert rest.status == 200 and len([v for k, v in rest.headers if k.lower() == "set-cookie"]) == 2
