"""Rendering: progress sinks and result printing.

Progress goes to stderr (a rich live view on a TTY, one plain line per event
otherwise or when ``CI`` is set); results go to stdout. With ``--output json``
nothing but the final JSON document is printed on stdout.

Text printed here carries strings from outside (the state bucket's journal and lock, AWS answers, DNS
APIs, build output). ``printable`` is the one filter every text line goes through: secrets scrubbed,
then control characters shown as escapes, so a stored value cannot move the cursor, retitle the
terminal or write the clipboard (OSC 52). JSON needs no filter: ``json.dumps`` escapes them.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from tscloud_py.aws.waiters import WaitProgress, format_duration
from tscloud_py.engine.events import Event, EventSink, NullSink
from tscloud_py.redact import scrub, scrub_obj

# C0 but tab and newline, DEL, C1, the bidirectional overrides and isolates, the line separators
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` scrubbed of secrets, with every control character shown as its escape (``\\x1b``)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), scrub(text))


STATUS_STYLE = {
    "created": "green", "updated": "yellow", "unchanged": "dim", "deleted": "red", "failed": "bold red",
    "skipped": "magenta", "running": "cyan", "waiting": "cyan", "pending": "dim", "absent": "dim",
}


class PlainSink:
    """One line per event. Waits are reported when their state changes, or every 30 s."""

    def __init__(self, stream: IO[str] | None = None, *, wait_every: float = 30.0) -> None:
        self.stream = stream or sys.stderr
        self.wait_every = wait_every
        self._last_wait: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        line = self._line(event)
        if line is None:
            return
        with self._lock:
            stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
            print(printable(f"{stamp} {event.step_id}: {line}"), file=self.stream, flush=True)

    def _line(self, e: Event) -> str | None:
        if e.kind == "started":
            return "started"
        if e.kind == "waiting":
            key = f"{e.what}|{e.state}"
            last = self._last_wait.get(e.step_id)
            if last and last[0] == key and e.at - last[1] < self.wait_every:
                return None
            self._last_wait[e.step_id] = (key, e.at)
            return f"waiting for {e.what}: {e.state} ({format_duration(e.elapsed)})"
        if e.kind == "message":
            return e.what
        if e.kind == "finished":
            text = f"{e.status} ({e.elapsed:.1f}s)"
            if e.error:
                text += f": {e.error}"
            elif e.what:
                text += f": {e.what}"
            return text
        return None


class LiveSink:
    """A rich live table: one row per step with its state, what it waits for, and elapsed time."""

    def __init__(self, step_ids: Sequence[str], title: str) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.title = title
        self.rows: dict[str, dict[str, Any]] = {
            sid: {"state": "pending", "detail": "", "start": None, "end": None} for sid in step_ids
        }
        self._lock = threading.Lock()
        self.live = Live(self._render(), console=self.console, refresh_per_second=4,
                         get_renderable=self._render, transient=False)

    def __enter__(self) -> LiveSink:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def emit(self, event: Event) -> None:
        with self._lock:
            row = self.rows.setdefault(event.step_id, {"state": "pending", "detail": "", "start": None, "end": None})
            if event.kind == "started":
                row.update(state="running", start=event.at)
            elif event.kind == "waiting":
                row.update(state="waiting", detail=printable(f"{event.what}: {event.state}"))
            elif event.kind == "message":
                row["detail"] = printable(event.what)
            elif event.kind == "finished":
                row.update(state=event.status, end=event.at, detail=printable(event.error or event.what or ""))
                row["start"] = row["start"] or event.at - event.elapsed

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=self.title, title_justify="left", box=None, pad_edge=False)
        table.add_column("step")
        table.add_column("state")
        table.add_column("time", justify="right")
        table.add_column("detail", overflow="ellipsis", no_wrap=True, max_width=70)
        now = time.time()
        with self._lock:
            for sid, row in self.rows.items():
                elapsed = ""
                if row["start"] is not None:
                    elapsed = format_duration((row["end"] or now) - row["start"])
                style = STATUS_STYLE.get(row["state"], "")
                table.add_row(sid, f"[{style}]{row['state']}[/]" if style else row["state"], elapsed, Text(row["detail"]))
        return table


class OpeningLiveSink:
    """The live table, opened once rich has loaded. rich and the table load on a thread of their own
    (some 25 ms of CPU, as long as a redeploy takes from its first answers to its upload) while the walk
    goes on; what the walk reports meanwhile is kept and shown as the table opens. Where the table cannot
    be made, the events print as lines (``PlainSink``)."""

    def __init__(self, step_ids: Sequence[str], title: str,
                 make: Callable[[Sequence[str], str], LiveSink] = LiveSink) -> None:
        from tscloud_py.concurrency import Background

        self._lock = threading.Lock()
        self._kept: list[Event] = []
        self._sink: LiveSink | PlainSink | None = None
        self._loading = Background(lambda: make(step_ids, title), name="live-view")

    def __enter__(self) -> OpeningLiveSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loading.wait()
        with self._lock:
            sink = self._opened()
        if not isinstance(sink, PlainSink):
            sink.__exit__(None, None, None)

    def emit(self, event: Event) -> None:
        with self._lock:
            sink = self._opened() if self._loading.done() else None
            if sink is None:
                self._kept.append(event)
                return
        sink.emit(event)

    def _opened(self) -> LiveSink | PlainSink:
        """The table, opened with what was kept (under ``_lock``, once loaded)."""
        if self._sink is None:
            try:
                live = self._loading.result()
                live.__enter__()
                self._sink = live
            except Exception:
                self._sink = PlainSink()
            for event in self._kept:
                self._sink.emit(event)
            self._kept.clear()
        return self._sink


def make_sink(step_ids: Sequence[str], *, output: str, title: str) -> tuple[EventSink, Any]:
    """The sink for this terminal, and a context manager to hold it open."""
    from contextlib import nullcontext

    if output == "json":
        return NullSink(), nullcontext()
    if sys.stderr.isatty() and not os.environ.get("CI"):
        live = OpeningLiveSink(step_ids, title)
        return live, live
    return PlainSink(), nullcontext()


def print_json(doc: Any) -> None:
    sys.stdout.write(scrub(json.dumps(scrub_obj(doc), indent=2, sort_keys=False, default=str)) + "\n")
    sys.stdout.flush()


def echo(text: str = "", *, err: bool = False) -> None:
    print(printable(text), file=sys.stderr if err else sys.stdout, flush=True)


class WaitLines:
    """Wait progress on stderr: a line when the state changes, else every 30 s."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last: tuple[str, float] | None = None

    def __call__(self, p: WaitProgress) -> None:
        if not self.enabled:
            return
        if self.last and self.last[0] == p.state and p.elapsed - self.last[1] < 30:
            return
        self.last = (p.state, p.elapsed)
        echo(f"waiting for {p.what}: {p.state} ({format_duration(p.elapsed)})", err=True)


def print_outputs(outputs: dict[str, Any]) -> None:
    if not outputs:
        echo("(no outputs)")
        return
    width = max(len(k) for k in outputs)
    for key, value in outputs.items():
        # JSON's spelling for what is not a string: true/false/null, as `--output json` and the config say
        shown = value if isinstance(value, str) else json.dumps(value)
        echo(f"{key.ljust(width)}  {shown}")
