"""CloudFront Functions for the local edge: the event CloudFront builds, run for real in node.

One node process (``data/edge/cloudfront-functions.mjs``) serves every call,
one JSON line each way; calls are serialized, as the edge is a local tool. A
function that reads its KeyValueStore asks while it runs (an ``ask`` line), and
``KeyLookup`` answers from the emulator's store before the call goes on.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qsl

RUNNER = "cloudfront-functions.mjs"


class FunctionError(Exception):
    """The function threw, timed out, or returned something CloudFront rejects (viewers get a 503)."""


class KeyLookup(Protocol):
    """What a function's ``cf.kvs()`` reads: a key's value (None when absent), or the store's metadata."""

    def get(self, store_arn: str, key: str) -> str | None: ...

    def meta(self, store_arn: str) -> dict[str, Any]: ...


@dataclass
class FunctionResult:
    value: dict[str, Any]
    logs: list[str]
    origin: dict[str, Any] | None = None  # what cf.updateRequestOrigin set


class FunctionRuntime:
    def __init__(self, node: str | None = None) -> None:
        self._node = node
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._next = 0

    def _start(self) -> subprocess.Popen[str]:
        node = self._node or shutil.which("node")
        if not node:
            raise FunctionError("node is not installed; the local edge runs CloudFront Functions in node")
        script = resources.files("tscloud_py.data").joinpath("edge").joinpath(RUNNER)
        with resources.as_file(script) as path:
            return subprocess.Popen([node, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def run(self, code: str, runtime: str, event: dict[str, Any], *, stores: Sequence[str] = (),
            lookup: KeyLookup | None = None) -> FunctionResult:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            self._next += 1
            message = {"id": self._next, "code": code, "runtime": runtime, "event": event, "stores": list(stores)}
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._send(message)
                while True:
                    line = self._proc.stdout.readline()
                    if not line:
                        raise FunctionError("the function runner stopped")
                    reply = json.loads(line)
                    if "ask" not in reply:
                        break
                    self._send({"answer": reply["ask"], **_answer(reply, lookup)})
            except OSError as exc:
                raise FunctionError(f"the function runner stopped: {exc}") from exc
        if not reply.get("ok"):
            raise FunctionError(str(reply.get("error")))
        value = reply.get("result")
        if not isinstance(value, dict):
            raise FunctionError(f"the function returned {type(value).__name__}, not an object")
        origin = reply.get("origin")
        return FunctionResult(value, list(reply.get("logs") or []), origin if isinstance(origin, dict) else None)

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                if self._proc.stdin is not None:
                    self._proc.stdin.close()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None


def _answer(ask: dict[str, Any], lookup: KeyLookup | None) -> dict[str, Any]:
    if lookup is None:
        return {"found": False}
    store = str(ask.get("store"))
    if ask.get("op") == "meta":
        return {"found": True, "value": lookup.meta(store)}
    value = lookup.get(store, str(ask.get("key")))
    return {"found": value is not None, "value": value}


def _multi(pairs: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in pairs:
        if key in out:
            entry = out[key]
            entry.setdefault("multiValue", [{"value": entry["value"]}]).append({"value": value})
        else:
            out[key] = {"value": value}
    return out


def request_event(*, method: str, uri: str, query: str, headers: list[tuple[str, str]], client_ip: str,
                  distribution_id: str, distribution_domain: str, request_id: str) -> dict[str, Any]:
    """The viewer-request event as CloudFront builds it: header names lower-cased, cookies split out."""
    cookies: list[tuple[str, str]] = []
    plain: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() == "cookie":
            for part in value.split(";"):
                key, _, val = part.strip().partition("=")
                if key:
                    cookies.append((key, val))
        else:
            plain.append((name.lower(), value))
    return {
        "version": "1.0",
        "context": {"distributionDomainName": distribution_domain, "distributionId": distribution_id,
                    "eventType": "viewer-request", "requestId": request_id},
        "viewer": {"ip": client_ip},
        "request": {"method": method, "uri": uri,
                    "querystring": _multi(parse_qsl(query, keep_blank_values=True)),
                    "headers": _multi(plain), "cookies": _multi(cookies)},
    }


def flat_values(block: Any) -> list[tuple[str, str]]:
    """An event's headers / querystring / cookies back to (name, value) pairs, multiValue expanded."""
    out: list[tuple[str, str]] = []
    if not isinstance(block, dict):
        return out
    for name, entry in block.items():
        if not isinstance(entry, dict):
            continue
        multi = entry.get("multiValue")
        if isinstance(multi, list) and multi:
            out.extend((str(name), str(m.get("value", ""))) for m in multi if isinstance(m, dict))
        elif "value" in entry:
            out.append((str(name), str(entry["value"])))
    return out


def response_block(status: int, reason: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    """The response object a viewer-response function sees (set-cookie goes to cookies)."""
    cookies: list[tuple[str, str]] = []
    plain: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies.append((key.strip(), rest.split(";", 1)[0]))
        else:
            plain.append((name.lower(), value))
    return {"statusCode": status, "statusDescription": reason, "headers": _multi(plain), "cookies": _multi(cookies)}


def function_name(arn: str) -> str:
    """``arn:aws:cloudfront::123456789012:function/NAME`` -> ``NAME``."""
    return arn.rsplit("function/", 1)[-1]
