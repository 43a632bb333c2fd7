"""Pure checks behind `tscloud ssr verify`: Lambda REPORT lines and a probe's streamed HTTP response.

Lambda bills an invocation until the runtime asks for its next event, which can be long after
the response ended (a DB pool holding the event loop: a 30 ms page billed 10 s). So the probe's
own invocation is found by its request id (the ``x-amzn-RequestId`` response header) and its
REPORT duration is compared with the response time it served; recent REPORT lines are also
checked for durations pinned near the timeout. The probe itself checks time to first byte and
how the body arrived, not only the transfer encoding.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

NEAR_TIMEOUT = 0.9
OUTLIVES_MS = 1000.0
# A streamed body that arrives in one piece this long after the request was buffered somewhere.
ONE_PIECE_MS = 250.0
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
    route: str | None = None  # the path a probe check is about

    def about(self, route: str) -> Check:
        return replace(self, route=route)

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
            "run `tscloud ssr doctor`: set callbackWaitsForEmptyEventLoop = false and end every response, "
            "bodyless ones too (`tscloud ssr eject-entry`)")
    return Check("durations", True, f"{len(reports)} recent invocations, longest {worst:.0f} ms "
                                    f"(timeout {timeout_s}s)")


def check_invoke_mode(actual: str | None, streaming: bool) -> Check:
    wanted = "RESPONSE_STREAM" if streaming else "BUFFERED"
    actual = actual or "BUFFERED"
    if actual == wanted:
        return Check("invoke-mode", True, f"Function URL InvokeMode is {actual}")
    return Check("invoke-mode", False, f"Function URL InvokeMode is {actual}, the build wants {wanted}",
                 "run `tscloud deploy` (it sets the InvokeMode from nitro.json)")


@dataclass(frozen=True)
class ProbeTiming:
    """When the probe's bytes arrived, in ms from sending the request."""

    first_byte_ms: float | None
    end_ms: float
    chunk_ms: tuple[float, ...] = ()

    @property
    def largest_gap_ms(self) -> float:
        points = list(self.chunk_ms)
        return max((b - a for a, b in itertools.pairwise(points)), default=0.0)


def check_transfer(status: int, headers: dict[str, str], timing: ProbeTiming, streaming: bool) -> Check:
    encoding = headers.get("transfer-encoding", "").lower()
    chunked = "chunked" in encoding
    reads = len(timing.chunk_ms)
    first = "-" if timing.first_byte_ms is None else f"{timing.first_byte_ms:.0f} ms"
    detail = (f"HTTP {status}, transfer-encoding: {encoding or '(none)'}, content-length: "
              f"{headers.get('content-length', '(none)')}, first byte {first}, {reads} piece(s) over "
              f"{(timing.chunk_ms[-1] - timing.chunk_ms[0]) if reads else 0:.0f} ms "
              f"(largest gap {timing.largest_gap_ms:.0f} ms), ended after {timing.end_ms:.0f} ms")
    if status >= 500:
        return Check("probe", False, detail, "check the function's logs (`tscloud logs`)")
    if streaming and not chunked:
        return Check("probe", False, detail + "; a streamed response is sent chunked",
                     "check InvokeMode RESPONSE_STREAM and that the handler sends the prelude with "
                     "HttpResponseStream.from() (`tscloud ssr doctor`)")
    if streaming and reads <= 1 and timing.end_ms >= ONE_PIECE_MS:
        return Check("probe", False, detail + "; the whole body arrived in one piece, so it was buffered on the way",
                     "check the handler streams (`tscloud ssr doctor --probe PATH`) and that nothing between "
                     "(a proxy, a compression layer) buffers it")
    return Check("probe", True, detail)


def check_probe_invocation(request_id: str | None, report: Report | None, response_ms: float,
                           waited_s: float) -> Check:
    """The REPORT of the invocation that served the probe, against the response time it served."""
    if not request_id:
        return Check("probe-invocation", True, "the response carried no x-amzn-RequestId (not a Lambda origin "
                                               "answering directly?): its invocation cannot be matched")
    if report is None:
        return Check(
            "probe-invocation", False,
            f"no REPORT for request {request_id} within {waited_s:.0f} s, though its response ended after "
            f"{response_ms:.0f} ms: the invocation is still running (held open after the response), or its "
            "logs are late", "re-run with a longer --report-wait; then `tscloud ssr doctor` to see what holds it")
    gap = report.duration_ms - response_ms
    detail = (f"request {request_id}: REPORT duration {report.duration_ms:,.0f} ms for a response that ended "
              f"after {response_ms:,.0f} ms")
    if gap > OUTLIVES_MS or report.timed_out:
        return Check("probe-invocation", False,
                     f"{detail}: the invocation outlived its response by {gap:,.0f} ms (billed, and holding a "
                     "concurrency slot)",
                     "run `tscloud ssr doctor`: set callbackWaitsForEmptyEventLoop = false (`tscloud ssr eject-entry`)")
    return Check("probe-invocation", True, detail)


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
