"""Pure checks behind `tscloud ssr verify`: Lambda REPORT lines and a streamed HTTP response.

The field symptom of both streaming bugs is a duration pinned at the function timeout
(every invocation ~20 000 ms with a 20 s timeout), so REPORT lines at or above 90 % of the
timeout, or with ``Status: timeout``, are flagged.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

NEAR_TIMEOUT = 0.9
_DURATION = re.compile(r"\bDuration:\s*([\d.]+)\s*ms")
_REQUEST = re.compile(r"RequestId:\s*([0-9a-fA-F-]+)")
_INIT = re.compile(r"Init Duration:\s*([\d.]+)\s*ms")


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    init_ms: float | None
    timed_out: bool


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_report(line: str) -> Report | None:
    """One ``REPORT RequestId: ... Duration: ... ms ...`` line, or None for anything else."""
    if not line.lstrip().startswith("REPORT"):
        return None
    duration = _DURATION.search(line)
    if duration is None:
        return None
    request = _REQUEST.search(line)
    init = _INIT.search(line)
    return Report(request.group(1) if request else "", float(duration.group(1)),
                  float(init.group(1)) if init else None, "Status: timeout" in line)


def check_durations(reports: list[Report], timeout_s: int) -> Check:
    if not reports:
        return Check("durations", True, "no REPORT lines in the window (no recent invocations)")
    limit = timeout_s * 1000 * NEAR_TIMEOUT
    pinned = [r for r in reports if r.timed_out or r.duration_ms >= limit]
    worst = max(r.duration_ms for r in reports)
    if pinned:
        return Check(
            "durations", False,
            f"{len(pinned)} of {len(reports)} recent invocations ran to within 10% of the {timeout_s}s timeout "
            f"(longest {worst:.0f} ms): the event loop or the response stream is kept open",
            "run `tscloud ssr doctor`: set callbackWaitsForEmptyEventLoop = false and write the body to the "
            "HttpResponseStream.from() wrapper (`tscloud ssr eject-entry`)")
    return Check("durations", True, f"{len(reports)} recent invocations, longest {worst:.0f} ms "
                                    f"(timeout {timeout_s}s)")


def check_invoke_mode(actual: str | None, streaming: bool) -> Check:
    wanted = "RESPONSE_STREAM" if streaming else "BUFFERED"
    actual = actual or "BUFFERED"
    if actual == wanted:
        return Check("invoke-mode", True, f"Function URL InvokeMode is {actual}")
    return Check("invoke-mode", False, f"Function URL InvokeMode is {actual}, the build wants {wanted}",
                 "run `tscloud deploy` (it sets the InvokeMode from nitro.json)")


def check_transfer(status: int, headers: dict[str, str], chunks: int, streaming: bool) -> Check:
    encoding = headers.get("transfer-encoding", "").lower()
    chunked = "chunked" in encoding
    detail = (f"HTTP {status}, transfer-encoding: {encoding or '(none)'}, content-length: "
              f"{headers.get('content-length', '(none)')}, {chunks} read(s) before the body ended")
    if status >= 500:
        return Check("probe", False, detail, "check the function's logs (`tscloud logs`)")
    if streaming and not chunked:
        return Check("probe", False, detail + "; a streamed response is sent chunked",
                     "check InvokeMode RESPONSE_STREAM and that the handler writes to the HttpResponseStream wrapper")
    return Check("probe", True, detail)


def check_transfer_mode(integration: dict[str, Any] | None, streaming: bool) -> Check:
    """The REST API proxy integration: streaming URI and responseTransferMode STREAM when the build streams."""
    if integration is None:
        return Check("transfer-mode", False, "the REST API has no ANY /{proxy+} integration", "run `tscloud deploy`")
    wanted = "STREAM" if streaming else "BUFFERED"
    uri = str(integration.get("uri", ""))
    streaming_uri = uri.endswith("/response-streaming-invocations")
    mode = integration.get("responseTransferMode")
    if streaming_uri != streaming or (mode is not None and mode != wanted):
        return Check("transfer-mode", False,
                     f"integration responseTransferMode {mode or '(not reported)'} with URI {uri.rsplit('/', 1)[-1]}; "
                     f"the build wants {wanted}", "run `tscloud deploy`")
    return Check("transfer-mode", True, f"integration responseTransferMode {mode or '(not reported)'}, "
                                        f"{'streaming' if streaming_uri else 'buffered'} invocation URI")
