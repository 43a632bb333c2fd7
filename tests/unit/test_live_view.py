"""cli/ui.OpeningLiveSink: the live table loads beside the walk. What the walk reports before it has loaded is
kept and shown, in order, as it opens; it opens and closes once; where it cannot be made, the events print
as lines."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from tscloud_py.cli.ui import LiveSink, OpeningLiveSink
from tscloud_py.engine.events import Event


class FakeTable:
    def __init__(self, step_ids: Sequence[str], title: str) -> None:
        self.step_ids, self.title = list(step_ids), title
        self.shown: list[str] = []
        self.entered = self.exited = 0

    def __enter__(self) -> FakeTable:
        self.entered += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.exited += 1

    def emit(self, event: Event) -> None:
        self.shown.append(f"{event.step_id}:{event.kind}")


def test_what_the_walk_reports_before_the_table_loads_is_shown_in_order_once_it_opens() -> None:
    loaded = threading.Event()
    made: list[FakeTable] = []

    def slow(step_ids: Sequence[str], title: str) -> Any:
        assert loaded.wait(10)  # rich still loading
        made.append(FakeTable(step_ids, title))
        return made[0]

    sink = OpeningLiveSink(["bucket", "upload"], "deploy shop-dev (static-site)", make=slow)
    with sink:
        sink.emit(Event("bucket", "started"))  # the walk does not wait for the table
        sink.emit(Event("bucket", "finished", status="unchanged"))
        assert made == []
        loaded.set()
        sink._loading.wait()
        sink.emit(Event("upload", "started"))
    table = made[0]
    assert (table.step_ids, table.title) == (["bucket", "upload"], "deploy shop-dev (static-site)")
    assert table.shown == ["bucket:started", "bucket:finished", "upload:started"]
    assert (table.entered, table.exited) == (1, 1)


def test_a_short_walk_that_ends_before_the_table_loads_still_shows_every_step() -> None:
    made: list[FakeTable] = []
    gate = threading.Event()

    def slow(step_ids: Sequence[str], title: str) -> Any:
        assert gate.wait(10)
        made.append(FakeTable(step_ids, title))
        return made[0]

    sink = OpeningLiveSink(["bucket"], "t", make=slow)
    sink.__enter__()
    sink.emit(Event("bucket", "finished", status="unchanged"))
    gate.set()
    sink.__exit__(None, None, None)
    assert made[0].shown == ["bucket:finished"] and (made[0].entered, made[0].exited) == (1, 1)


def test_a_table_that_cannot_be_made_leaves_the_events_as_lines(capsys: pytest.CaptureFixture[str]) -> None:
    def broken(step_ids: Sequence[str], title: str) -> LiveSink:
        raise RuntimeError("no terminal after all")

    sink = OpeningLiveSink(["bucket"], "t", make=broken)
    with sink:
        sink.emit(Event("bucket", "finished", status="unchanged", elapsed=0.1))
    assert "bucket: unchanged" in capsys.readouterr().err
