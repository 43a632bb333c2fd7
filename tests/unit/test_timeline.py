"""The timeline's analysis (held-up-by, waits, critical path) and its page, from a synthetic run record."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tscloud_py.operations.timeline import analyse, render_html

T0 = 1_700_000_000.0


def step(sid: str, start: float, end: float, status: str = "created") -> dict[str, Any]:
    return {"id": sid, "status": status, "seconds": end - start, "started": T0 + start, "ended": T0 + end,
            "selected": True, "error": None}


def record() -> dict[str, Any]:
    """network 0-20 s; database 20-392 s (6m12s, waiting 30-390 s); image 0-95 s; service 392-492 s (1m40s)."""
    return {
        "kind": "deploy", "app": "shop", "stage": "dev", "preset": "fullstack-app", "ok": True,
        "started": T0, "ended": T0 + 493,
        "needs": {"network": [], "database": ["network"], "image": [], "service": ["database", "image"],
                  "logs": []},
        "timeline": [step("network", 0, 20), step("database", 20, 392), step("image", 0, 95),
                     step("service", 392, 492), step("logs", 0, 1, "unchanged"),
                     {**step("cluster", 0, 0), "status": "not-selected", "selected": False}],
        "events": [
            {"step_id": "database", "kind": "waiting", "at": T0 + 40, "elapsed": 10.0, "what": "db available",
             "state": "creating"},
            {"step_id": "database", "kind": "waiting", "at": T0 + 390, "elapsed": 360.0, "what": "db available",
             "state": "backing-up"},
            {"step_id": "service", "kind": "waiting", "at": T0 + 490, "elapsed": 90.0, "what": "rollout",
             "state": "IN_PROGRESS"},
        ],
    }


def test_critical_path_follows_the_last_finishing_need() -> None:
    tl = analyse(record())
    bars = {b.id: b for b in tl.bars}
    assert "cluster" not in bars                             # not selected: not drawn
    assert bars["service"].held_by == "database"            # image finished at 95 s, database at 392 s
    assert bars["database"].held_by == "network" and bars["network"].held_by is None
    assert [b.id for b in tl.critical] == ["network", "database", "service"]
    assert tl.summary() == "critical path: network 20s → database 6m12s → service 1m40s"


def test_waits_come_from_the_waiting_events() -> None:
    bars = {b.id: b for b in analyse(record()).bars}
    (wait,) = bars["database"].waits
    assert wait.what == "db available"
    assert wait.start - T0 == pytest.approx(30.0) and wait.end - T0 == pytest.approx(390.0)
    assert bars["service"].waits[0].start - T0 == pytest.approx(400.0)


def test_page_bars_are_scaled_and_self_contained() -> None:
    page = render_html(analyse(record()), chart_width=986)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert "<script src" not in page and "<link" not in page
    bars = re.findall(r'<rect class="bar[^"]*" data-step="([^"]+)"[^>]*data-seconds="([\d.]+)"[^>]*'
                      r'width="([\d.]+)"', page)
    assert {b[0] for b in bars} == {"network", "database", "image", "service", "logs"}
    for _sid, seconds, width in bars:
        assert float(width) == pytest.approx(float(seconds) * 986 / 493, abs=0.01)
    assert 'class="wait"' in page and 'data-from="database" data-to="service"' in page
    assert "critical path: network 20s → database 6m12s → service 1m40s" in page


def test_failed_and_skipped_steps_are_drawn() -> None:
    rec = record()
    rec["timeline"][3] = {**step("service", 392, 400, "failed"), "error": "step 'service' failed: boom"}
    tl = analyse(rec)
    assert {b.id: b.status for b in tl.bars}["service"] == "failed"
    assert "boom" in render_html(tl)


def test_axis_ticks_are_labelled_at_the_precision_they_are_placed() -> None:
    short = {"kind": "deploy", "app": "shop", "stage": "dev", "preset": "static-site", "ok": True,
             "started": T0, "ended": T0 + 2.3, "needs": {"bucket": []}, "timeline": [step("bucket", 0, 2.3)],
             "events": []}
    labels = re.findall(r'class="axis-label"[^>]*>([^<]*)<', render_html(analyse(short)))
    assert labels == ["0.0s", "0.5s", "1.0s", "1.5s", "2.0s"]  # not 0s 0s 1s 1s 2s
    long_labels = re.findall(r'class="axis-label"[^>]*>([^<]*)<', render_html(analyse(record())))
    assert long_labels[:3] == ["0s", "1m00s", "2m00s"] and len(set(long_labels)) == len(long_labels)


def test_a_failed_deploy_says_so_in_its_title_with_the_error_in_view() -> None:
    rec = {**record(), "ok": False}
    rec["timeline"][3] = {**step("service", 392, 400, "failed"), "error": "step 'service' failed: rollout <stopped>"}
    page = render_html(analyse(rec))
    title = re.search(r"<title>(.*?)</title>", page).group(1)  # type: ignore[union-attr]
    assert title == "deploy shop-dev (fullstack-app): FAILED at service"
    assert re.search(r'<h1 class="failed">deploy shop-dev \(fullstack-app\): FAILED at service', page)
    # in the page's text, not only in a tooltip
    errors = re.search(r'<div class="errors" id="errors">(.*?)</div></div>', page, re.S)
    assert errors and "rollout &lt;stopped&gt;" in errors.group(1)
    assert "errors" not in render_html(analyse(record())).split("<style>")[0]


def test_an_interrupted_deploy_says_so_in_its_title() -> None:
    rec = {**record(), "ok": False, "interrupted": {"signal": "SIGINT", "steps": ["service"], "next": "tscloud deploy"}}
    rec["timeline"][3] = step("service", 392, 450, "interrupted")
    assert "<title>deploy shop-dev (fullstack-app): INTERRUPTED (SIGINT)</title>" in render_html(analyse(rec))


def test_skipped_steps_are_marked_and_failed_differs_from_deleted() -> None:
    from tscloud_py.operations.timeline import STATUS_COLOR

    assert STATUS_COLOR["failed"] != STATUS_COLOR["deleted"]
    rec = record()
    rec["timeline"][4] = step("logs", 400, 400, "skipped")
    page = render_html(analyse(rec))
    assert re.search(r'<rect class="mark" data-step="logs"[^>]*width="3"', page)
    assert "0.0s · skipped" in page


def test_labels_fit_a_1200_px_window() -> None:
    rec = record()
    long_id = "worker-queue-dead-letter-redrive-policy"
    rec["needs"][long_id] = ["database"]
    rec["timeline"].append(step(long_id, 392, 493, "updated"))
    page = render_html(analyse(rec))
    width = int(re.search(r'<svg [^>]*width="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert width + 2 * 24 <= 1200  # the body's margins
    label = re.search(rf'<text x="([\d.]+)" y="\d+" text-anchor="end">{long_id}</text>', page)
    assert label and float(label.group(1)) >= len(long_id) * 7  # its left end stays on the page
    for x, text in re.findall(r'<text x="([\d.]+)" y="\d+">([^<]+)</text>', page):
        assert float(x) + len(text) * 7.2 <= width, text
