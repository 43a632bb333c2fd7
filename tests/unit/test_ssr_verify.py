"""Pure checks behind `tscloud ssr verify`."""

from __future__ import annotations

from tscloud_py.build.verify import (
    ProbeTiming,
    check_durations,
    check_invoke_mode,
    check_probe_invocation,
    check_transfer,
    parse_report,
)

PINNED = ("REPORT RequestId: 3f2c9e1a-1111-2222-3333-444455556666\tDuration: 20000.00 ms\tBilled Duration: "
          "20000 ms\tMemory Size: 2048 MB\tMax Memory Used: 161 MB\tStatus: timeout")
FAST = ("REPORT RequestId: 9a8b7c6d-1111-2222-3333-444455556666\tDuration: 37.41 ms\tBilled Duration: 38 ms\t"
        "Memory Size: 2048 MB\tMax Memory Used: 150 MB\tInit Duration: 2501.12 ms")


def test_parse_report() -> None:
    fast = parse_report(FAST)
    assert fast is not None and fast.duration_ms == 37.41 and fast.init_ms == 2501.12 and not fast.timed_out
    assert fast.request_id.startswith("9a8b7c6d")
    pinned = parse_report(PINNED)
    assert pinned is not None and pinned.timed_out and pinned.duration_ms == 20000.0
    assert parse_report("START RequestId: x Version: $LATEST") is None
    assert parse_report("REPORT without numbers") is None


def test_durations() -> None:
    fast, pinned = parse_report(FAST), parse_report(PINNED)
    assert fast is not None and pinned is not None
    assert check_durations([], 20).ok
    assert check_durations([fast], 20).ok
    bad = check_durations([fast, pinned], 20)
    assert not bad.ok and "1 of 2" in bad.detail and "doctor" in bad.fix
    near = parse_report(FAST.replace("37.41", "18500.00"))
    assert near is not None and not check_durations([near], 20).ok and check_durations([near], 60).ok


def test_invoke_mode_and_transfer() -> None:
    assert check_invoke_mode("RESPONSE_STREAM", True).ok
    assert not check_invoke_mode("BUFFERED", True).ok and check_invoke_mode(None, False).ok
    streamed = ProbeTiming(12.0, 1010.0, (12.0, 260.0, 510.0, 760.0, 1008.0))
    chunked = {"transfer-encoding": "chunked"}
    assert check_transfer(200, chunked, streamed, True).ok
    assert "first byte 12 ms, 5 piece(s) over 996 ms (largest gap 250 ms)" in check_transfer(
        200, chunked, streamed, True).detail
    one_piece = ProbeTiming(1005.0, 1006.0, (1005.0,))
    assert not check_transfer(200, {"content-length": "10"}, one_piece, True).ok
    late = check_transfer(200, chunked, one_piece, True)  # chunked, but all of it at the end: buffered
    assert not late.ok and "one piece" in late.detail
    assert check_transfer(200, chunked, ProbeTiming(20.0, 21.0, (20.0,)), True).ok  # too short to tell
    assert check_transfer(200, {"content-length": "10"}, one_piece, False).ok
    assert not check_transfer(502, {}, ProbeTiming(None, 5.0), False).ok


def test_probe_invocation_against_its_response() -> None:
    rid = "9a8b7c6d-1111-2222-3333-444455556666"
    pinned = parse_report(FAST.replace("37.41 ms", "10035.00 ms"))
    clean = parse_report(FAST)
    assert pinned is not None and clean is not None
    bad = check_probe_invocation(rid, pinned, 30.0, 1.0)
    assert not bad.ok and "10,035 ms for a response that ended after 30 ms" in bad.detail
    assert "outlived its response by 10,005 ms" in bad.detail and "callbackWaitsForEmptyEventLoop" in bad.fix
    assert check_probe_invocation(rid, clean, 30.0, 1.0).ok
    missing = check_probe_invocation(rid, None, 30.0, 15.0)
    assert not missing.ok and "still running" in missing.detail
    assert check_probe_invocation(None, None, 30.0, 0.0).ok


def test_transfer_mode() -> None:
    from tscloud_py.build.verify import check_transfer_mode

    stream_uri = "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:f/response-streaming-invocations"
    assert check_transfer_mode({"uri": stream_uri, "responseTransferMode": "STREAM"}, True).ok
    assert check_transfer_mode({"uri": stream_uri}, True).ok  # an endpoint that does not report the mode
    assert not check_transfer_mode({"uri": stream_uri, "responseTransferMode": "BUFFERED"}, True).ok
    assert not check_transfer_mode({"uri": "arn:.../invocations"}, True).ok
    assert check_transfer_mode({"uri": "arn:.../invocations", "responseTransferMode": "BUFFERED"}, False).ok
    assert not check_transfer_mode(None, False).ok
