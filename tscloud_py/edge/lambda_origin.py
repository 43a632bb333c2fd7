"""A Lambda Function URL origin at the local edge: the deployed code run under AWS's runtime client.

The function's code comes from the emulator in this process (moto hands out no
downloadable code), is unpacked once per code hash, and runs in one warm
execution environment per function (``tscloud_py.lambda_runtime``), as Lambda
would: invocations queue on it one at a time, a streamed response reaches the
viewer chunk by chunk. CloudFront sends the viewer's headers without Host
(the AllViewerExceptHostHeader policy the presets use), so the function sees its
own URL's host, and the viewer's host only through a header like x-forwarded-host.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tscloud_py.edge.origins import HOP_BY_HOP, Distribution, EdgeRequest, EdgeResponse, error_page
from tscloud_py.edge.routing import items_of
from tscloud_py.errors import TscloudError
from tscloud_py.local_lambda import LocalFunction, function_for_url

INIT_GRACE_S = 15.0


class FunctionUrlOrigin:
    def __init__(self, lookup: Callable[[str], LocalFunction | None] = function_for_url) -> None:
        self.lookup = lookup
        self._lock = threading.Lock()
        self._envs: dict[str, tuple[str, Any, Path]] = {}  # name -> (code hash, NodeFunction, unpacked dir)

    def fetch(self, dist: Distribution, origin: Mapping[str, Any], req: EdgeRequest) -> EdgeResponse:
        from tscloud_py.lambda_runtime.events import function_url_event, response_head

        host = str(origin.get("DomainName"))
        label = f"{origin.get('Id')} (lambda-url)"
        fn = self.lookup(host)
        if fn is None:
            return error_page(502, "Bad gateway", f"no function in this emulator has the URL {host}", label)
        if not fn.runtime.startswith("nodejs"):
            return error_page(502, "Bad gateway", f"function {fn.name} runs {fn.runtime}; the local edge runs "
                              "nodejs functions only", label)
        try:
            env = self._environment(fn)
        except TscloudError as exc:
            return error_page(502, "Bad gateway", f"function {fn.name} cannot run here: {exc.message} "
                              f"({exc.hint})", label)
        headers = [(k, v) for k, v in req.headers if k.lower() not in HOP_BY_HOP | {"host", "content-length"}]
        headers += [(str(h.get("HeaderName")), str(h.get("HeaderValue"))) for h in items_of(origin.get("CustomHeaders"))]
        event = function_url_event(req.method, req.uri, query=req.query, headers=headers, body=req.body,
                                   domain=host, source_ip=req.client_ip)
        inv = env.start(event)
        if not inv.wait_prelude(INIT_GRACE_S + fn.timeout_s):
            return error_page(504, "Gateway timeout", f"function {fn.name} did not answer", label)
        status, response_headers = response_head(inv)
        if status == 502 and inv.error is not None:
            return error_page(502, "Bad gateway", f"function {fn.name} failed: {inv.error.get('errorType')}: "
                              f"{inv.error.get('errorMessage')}", label)
        body: Iterator[bytes] | list[bytes]
        if inv.streaming:
            body = inv.body(timeout=INIT_GRACE_S + fn.timeout_s)
        else:
            from tscloud_py.lambda_runtime.events import http_result

            result = http_result(inv)
            body = [result.body]
            response_headers = [*result.headers, ("Content-Length", str(len(result.body)))]
        return EdgeResponse(status, [(k, v) for k, v in response_headers if k.lower() not in HOP_BY_HOP], body,
                            origin=label, notes=[f"function {fn.name} ran under aws-lambda-ric"])

    def _environment(self, fn: LocalFunction) -> Any:
        from tscloud_py.lambda_runtime import NodeFunction

        with self._lock:
            current = self._envs.get(fn.name)
            if current is not None and current[0] == fn.code_sha256:
                return current[1]
            if current is not None:
                current[1].close()
                shutil.rmtree(current[2], ignore_errors=True)
            code_dir = Path(tempfile.mkdtemp(prefix=f"tscloud-edge-{fn.name}-"))
            with zipfile.ZipFile(io.BytesIO(fn.zip_bytes)) as archive:
                archive.extractall(code_dir)
            try:
                env = NodeFunction(code_dir, fn.handler, timeout_s=float(fn.timeout_s), env=fn.environment,
                                   name=fn.name, memory_mb=fn.memory_mb, region=fn.region)
            except TscloudError:
                shutil.rmtree(code_dir, ignore_errors=True)
                raise
            self._envs[fn.name] = (fn.code_sha256, env, code_dir)
            return env

    def close(self) -> None:
        with self._lock:
            envs, self._envs = list(self._envs.values()), {}
        for _sha, env, code_dir in envs:
            env.close()
            shutil.rmtree(code_dir, ignore_errors=True)
