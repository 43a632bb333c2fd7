"""The deploy timeline: a Gantt chart of a run record, and its critical path.

A run record (``.tscloud/deploys/<stamp>-deploy-<app>-<stage>.json``, written by every run) holds
each step's start and end, every progress event (including waits) and each step's needs. From it:

- each step's bar (start -> end) and its waits (from the ``waiting`` events);
- which step held it up: of its needs, the one that finished last before it started;
- the critical path: from the step that finished last, follow "held up by" back to a step with
  none; "critical path: database 6m12s → service 1m40s".

``render_html`` writes a self-contained page (inline CSS, SVG and a few lines of JS; no network).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tscloud_py.aws.waiters import format_duration

HIDDEN_STATUSES = {"not-selected", "absent"}


@dataclass
class Wait:
    what: str
    start: float
    end: float


@dataclass
class Bar:
    id: str
    status: str
    start: float
    end: float
    needs: list[str] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)
    held_by: str | None = None
    error: str | None = None

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass
class Timeline:
    kind: str
    title: str
    started: float
    ended: float
    bars: list[Bar]
    critical: list[Bar]
    outcome: str = ""  # "" for a run that finished, else "FAILED at image" or "INTERRUPTED (SIGINT)"

    @property
    def heading(self) -> str:
        return f"{self.title}: {self.outcome}" if self.outcome else self.title

    @property
    def errors(self) -> list[Bar]:
        return [b for b in self.bars if b.status == "failed" and b.error]

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended - self.started)

    def summary(self) -> str:
        if not self.critical:
            return "critical path: (no steps ran)"
        return "critical path: " + " → ".join(f"{b.id} {duration(b.seconds)}" for b in self.critical)


def duration(seconds: float) -> str:
    """6m12s, 1m40s, 12s; tenths below ten seconds (0.4s)."""
    return f"{seconds:.1f}s" if seconds < 10 else format_duration(seconds)


def analyse(record: dict[str, Any]) -> Timeline:
    needs: dict[str, list[str]] = {k: list(v) for k, v in (record.get("needs") or {}).items()}
    bars: list[Bar] = []
    for row in record.get("timeline") or []:
        if not row.get("selected", True) or row.get("status") in HIDDEN_STATUSES:
            continue
        bars.append(Bar(str(row["id"]), str(row.get("status", "")), float(row["started"]), float(row["ended"]),
                        needs=needs.get(str(row["id"]), []), error=row.get("error")))
    by_id = {b.id: b for b in bars}
    waits: dict[tuple[str, str], Wait] = {}
    for e in record.get("events") or []:
        if e.get("kind") != "waiting" or e.get("step_id") not in by_id:
            continue
        at, elapsed = float(e.get("at", 0.0)), float(e.get("elapsed", 0.0))
        key = (str(e["step_id"]), str(e.get("what", "")))
        w = waits.get(key)
        if w is None:
            waits[key] = w = Wait(key[1], at - elapsed, at)
            by_id[key[0]].waits.append(w)
        w.start, w.end = min(w.start, at - elapsed), max(w.end, at)
    for b in bars:
        for w in b.waits:  # clamp into the step's own bar
            w.start, w.end = max(w.start, b.start), min(max(w.end, w.start), b.end)
        done_before = [by_id[n] for n in b.needs if n in by_id and by_id[n].end <= b.start + 0.5]
        if done_before:
            b.held_by = max(done_before, key=lambda x: x.end).id
    started = float(record.get("started") or min((b.start for b in bars), default=0.0))
    ended = float(record.get("ended") or max((b.end for b in bars), default=started))
    critical: list[Bar] = []
    if bars:
        cur: Bar | None = max(bars, key=lambda x: x.end)
        seen: set[str] = set()
        while cur is not None and cur.id not in seen:
            seen.add(cur.id)
            critical.append(cur)
            cur = by_id.get(cur.held_by) if cur.held_by else None
        critical.reverse()
    title = f"{record.get('kind', 'deploy')} {record.get('app', '?')}-{record.get('stage', '?')} " \
            f"({record.get('preset', '?')})"
    return Timeline(str(record.get("kind", "deploy")), title, started, max(ended, started), bars, critical,
                    _outcome(record, bars))


def _outcome(record: dict[str, Any], bars: list[Bar]) -> str:
    interrupted = record.get("interrupted")
    if isinstance(interrupted, dict):
        return f"INTERRUPTED ({interrupted.get('signal', 'signal')})"
    failed = [b.id for b in bars if b.status == "failed"]
    if failed:
        return "FAILED at " + ", ".join(failed)
    return "FAILED" if record.get("ok") is False else ""


STATUS_COLOR = {"created": "#2e7d32", "updated": "#b58900", "unchanged": "#9e9e9e", "failed": "#c62828",
                "skipped": "#8e24aa", "deleted": "#5d4037", "interrupted": "#ef6c00"}
PAGE_WIDTH = 1150  # fits a 1200 px window with the body's margins: no label is ever cut
CHAR_W = 7.2  # px per character of the 12 px labels, generously

CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:18px;margin:0 0 4px} .summary{font-weight:600;margin:8px 0 16px}
svg text{font:12px system-ui,sans-serif;fill:#222} .axis{stroke:#ddd} .axis-label{fill:#777}
.bar{stroke:#0003} .bar.critical{stroke:#000;stroke-width:2} .wait{fill:url(#hatch);pointer-events:none}
.dep{stroke:#c62828;stroke-width:1;stroke-dasharray:3 2;fill:none} .mark{stroke:#000;stroke-width:1}
.errors{border-left:4px solid #c62828;background:#fdecea;padding:8px 12px;margin:8px 0 16px;white-space:pre-wrap}
h1.failed{color:#c62828}
table{border-collapse:collapse;margin-top:16px} td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}
td.num{text-align:right;font-variant-numeric:tabular-nums} .legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
"""

JS = """
(function(){
  var bars=document.querySelectorAll('rect.bar');
  for(var i=0;i<bars.length;i++){var r=bars[i].getBoundingClientRect();
    bars[i].setAttribute('data-rendered-width',r.width.toFixed(3));
    bars[i].setAttribute('data-rendered-x',r.left.toFixed(3));}
  document.body.setAttribute('data-rendered','1');
})();
"""


def _right_label(b: Bar) -> str:
    text = duration(b.seconds) + (f" · after {b.held_by}" if b.held_by else "")
    return text if b.status in ("created", "updated", "unchanged") else f"{text} · {b.status}"


def render_html(tl: Timeline, *, chart_width: int | None = None) -> str:
    row_h, top = 26, 30
    label_w = int(max([120.0, *(len(b.id) * CHAR_W + 16 for b in tl.bars)]))
    right_w = int(max([60.0, *(len(_right_label(b)) * CHAR_W + 12 for b in tl.bars)]))
    if chart_width is None:
        chart_width = max(240, PAGE_WIDTH - label_w - right_w)
    scale = chart_width / tl.seconds if tl.seconds > 0 else 0.0
    height = top + row_h * len(tl.bars) + 20
    critical_ids = {b.id for b in tl.critical}
    row_of = {b.id: i for i, b in enumerate(tl.bars)}
    out: list[str] = []
    # time axis: about 8 ticks at round seconds
    step = _tick_step(tl.seconds)
    t = 0.0
    while step and t <= tl.seconds + 1e-9:
        x = label_w + t * scale
        out.append(f'<line class="axis" x1="{x:.2f}" y1="{top - 6}" x2="{x:.2f}" y2="{height - 14}"/>'
                   f'<text class="axis-label" x="{x:.2f}" y="{top - 10}" text-anchor="middle">'
                   f'{tick_label(t, step)}</text>')
        t += step
    for i, b in enumerate(tl.bars):
        y = top + i * row_h
        x = label_w + (b.start - tl.started) * scale
        w = b.seconds * scale
        cls = "bar critical" if b.id in critical_ids else "bar"
        tip = f"{b.id}: {b.status}, {duration(b.seconds)}"
        if b.held_by:
            tip += f", held up by {b.held_by}"
        if b.error:
            tip += f" — {b.error}"
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{html.escape(b.id)}</text>')
        out.append(f'<rect class="{cls}" data-step="{html.escape(b.id)}" data-status="{html.escape(b.status)}" '
                   f'data-start="{b.start - tl.started:.3f}" data-seconds="{b.seconds:.6f}" '
                   f'data-held-by="{html.escape(b.held_by or "")}" x="{x:.3f}" y="{y + 4}" width="{w:.3f}" '
                   f'height="{row_h - 8}" rx="2" fill="{STATUS_COLOR.get(b.status, "#1565c0")}">'
                   f'<title>{html.escape(tip)}</title></rect>')
        for wt in b.waits:
            wx = label_w + (wt.start - tl.started) * scale
            out.append(f'<rect class="wait" data-step="{html.escape(b.id)}" data-seconds="{wt.end - wt.start:.3f}" '
                       f'x="{wx:.3f}" y="{y + 4}" width="{(wt.end - wt.start) * scale:.3f}" height="{row_h - 8}">'
                       f'<title>{html.escape(b.id)} waiting for {html.escape(wt.what)} '
                       f'({format_duration(wt.end - wt.start)})</title></rect>')
        if w < 2:  # a step that took no time (skipped, unchanged at once) still shows where it stood
            out.append(f'<rect class="mark" data-step="{html.escape(b.id)}" x="{x - 1.5:.3f}" y="{y + 4}" '
                       f'width="3" height="{row_h - 8}" fill="{STATUS_COLOR.get(b.status, "#1565c0")}"/>')
        out.append(f'<text x="{x + max(w, 2) + 6:.2f}" y="{y + 15}">{html.escape(_right_label(b))}</text>')
        if b.held_by and b.held_by in row_of:
            hb = tl.bars[row_of[b.held_by]]
            hx = label_w + (hb.end - tl.started) * scale
            hy = top + row_of[b.held_by] * row_h + row_h / 2
            out.append(f'<path class="dep" data-from="{html.escape(hb.id)}" data-to="{html.escape(b.id)}" '
                       f'd="M{hx:.2f},{hy:.2f} L{x:.2f},{y + row_h / 2:.2f}"/>')
    rows = "".join(
        f"<tr><td>{html.escape(b.id)}</td><td>{html.escape(b.status)}</td>"
        f'<td class="num">{b.start - tl.started:.1f}s</td><td class="num">{b.seconds:.1f}s</td>'
        f'<td class="num">{sum(w.end - w.start for w in b.waits):.1f}s</td>'
        f"<td>{html.escape(b.held_by or '')}</td></tr>" for b in tl.bars)
    legend = "".join(f'<span><i style="background:{c}"></i>{s}</span>' for s, c in STATUS_COLOR.items())
    total_w = label_w + chart_width + right_w
    errors = "".join(f"<div><b>{html.escape(b.id)}</b>: {html.escape(b.error or '')}</div>" for b in tl.errors)
    errors_block = f'<div class="errors" id="errors">{errors}</div>' if errors else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(tl.heading)}</title>
<style>{CSS}</style></head>
<body data-seconds="{tl.seconds:.3f}" data-scale="{scale:.6f}">
<h1{' class="failed"' if tl.outcome else ''}>{html.escape(tl.heading)} — {duration(tl.seconds)}</h1>
{errors_block}
<div class="summary" id="critical-path">{html.escape(tl.summary())}</div>
<div class="legend">{legend}<span><i style="background:repeating-linear-gradient(45deg,#0008 0 2px,#fff 2px 5px)"></i>waiting</span>
<span>dashed line: held up by (the need that finished last)</span><span>black outline: critical path</span></div>
<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{height}" viewBox="0 0 {total_w} {height}">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="6" height="6" fill="#ffffff55"/><line x1="0" y1="0" x2="0" y2="6" stroke="#0008" stroke-width="2"/>
</pattern></defs>
{"".join(out)}
</svg>
<table><thead><tr><th>step</th><th>status</th><th>start</th><th>duration</th><th>waiting</th><th>held up by</th>
</tr></thead><tbody>{rows}</tbody></table>
<script>{JS}</script>
</body></html>
"""


def tick_label(t: float, step: float) -> str:
    """A tick's label at the precision ticks are placed: 0.5 s apart reads 0.0s 0.5s 1.0s, not 0s 0s 1s."""
    if step < 1:
        return f"{t:.1f}s"
    return format_duration(round(t))


def _tick_step(seconds: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if seconds / step <= 10:
            return float(step)
    return 7200.0


def write_timeline(record_path: Path) -> tuple[Path, Timeline]:
    """Write the page next to the run record (same name, .html)."""
    record = json.loads(record_path.read_text(encoding="utf-8"))
    tl = analyse(record)
    page = record_path.with_suffix(".html")
    page.write_text(render_html(tl), encoding="utf-8")
    return page, tl


def after_run_record(kind: str, record_path: Path) -> tuple[Path, str] | None:
    """After a deploy's run record is written: its timeline page, and the critical-path line to show."""
    if kind != "deploy":
        return None
    try:
        page, tl = write_timeline(record_path)
    except Exception:  # a picture must never fail a deploy
        return None
    return page, tl.summary()


def latest_timeline(deploys_dir: Path, app: str | None = None, stage: str | None = None) -> Path | None:
    pattern = f"*-deploy-{app}-{stage}.html" if app and stage else "*.html"
    pages = sorted(deploys_dir.glob(pattern))
    return pages[-1] if pages else None
