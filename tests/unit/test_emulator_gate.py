"""The emulator's gate between requests and snapshots (emulator/guard.py), with real threads: a snapshot
waiting for the requests in flight holds no new request back (an Invoke in flight waits on its function's
own request to the emulator, its secrets read at init), and a request waits while a snapshot is taken."""

from __future__ import annotations

import threading
import time

from tscloud_py.emulator.guard import Gate


def _request(gate: Gate, done: threading.Event) -> threading.Thread:
    def run() -> None:
        gate.enter()
        done.set()
        gate.leave()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_waiting_snapshot_holds_no_new_request_back_and_runs_once_none_is_in_flight() -> None:
    gate = Gate()
    gate.enter()  # an Invoke in flight
    taken = threading.Event()

    def snapshot() -> None:
        with gate:
            taken.set()

    saver = threading.Thread(target=snapshot, daemon=True)
    saver.start()
    time.sleep(0.2)  # the snapshot is waiting for the Invoke
    assert not taken.is_set()
    callback = threading.Event()
    _request(gate, callback).join(timeout=5)
    assert callback.is_set()  # the function's own request went through while the Invoke was in flight
    assert not taken.is_set()
    gate.leave()  # the Invoke ends
    saver.join(timeout=5)
    assert taken.is_set()


def test_a_request_waits_while_a_snapshot_is_taken() -> None:
    gate = Gate()
    done = threading.Event()
    with gate:
        request = _request(gate, done)
        assert not done.wait(0.3)
    request.join(timeout=5)
    assert done.is_set()
