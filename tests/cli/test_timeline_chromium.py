"""Every deploy writes a timeline page; it renders in headless Chromium with bars scaled to durations."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_timeline import record
from tscloud_py.operations.timeline import analyse, render_html

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "static-site"
CHROMIUM = Path("/usr/bin/chromium")


def dump_dom(page: Path, profile: Path) -> str:
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium is not installed (/usr/bin/chromium; `apt-get install -y chromium`, "
                    "as .ci/run does)")
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def rendered_bars(dom: str) -> list[dict[str, str]]:
    bars = []
    for tag in re.findall(r"<rect class=\"bar[^>]*>", dom):
        bars.append(dict(re.findall(r'([\w-]+)="([^"]*)"', tag)))
    return bars


def assert_scaled(dom: str) -> list[dict[str, str]]:
    assert 'data-rendered="1"' in dom, "the page's script did not run"
    scale = float(re.search(r'data-scale="([\d.]+)"', dom).group(1))  # type: ignore[union-attr]
    bars = rendered_bars(dom)
    assert bars
    for bar in bars:
        # laid out by the browser (getBoundingClientRect), proportional to the step's duration
        assert float(bar["data-rendered-width"]) == pytest.approx(float(bar["data-seconds"]) * scale, abs=0.05)
    return bars


def test_synthetic_run_renders_scaled_bars_and_waits(tmp_path: Path) -> None:
    page = tmp_path / "timeline.html"
    page.write_text(render_html(analyse(record())))
    dom = dump_dom(page, tmp_path / "profile")
    bars = {b["data-step"]: b for b in assert_scaled(dom)}
    # database (372 s) is 3.72 times as wide as service (100 s)
    ratio = float(bars["database"]["data-rendered-width"]) / float(bars["service"]["data-rendered-width"])
    assert ratio == pytest.approx(3.72, rel=0.001)
    assert float(bars["service"]["data-rendered-x"]) > float(bars["database"]["data-rendered-x"])
    assert "bar critical" in dom and dom.count('class="wait"') == 2
    assert "critical path: network 20s → database 6m12s → service 1m40s" in dom


def test_deploy_writes_the_page_and_status_prints_it(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "site", ignore=shutil.ignore_patterns(".tscloud"))
    cwd = tmp_path / "site"
    result = cli("--endpoint-url", moto_server.endpoint, "deploy", cwd=cwd)
    assert result.code == 0, result.output
    line = next(ln for ln in result.stderr.splitlines() if ln.startswith("critical path: "))
    assert "→ invalidation" in line and "(timeline: " in line
    pages = sorted((cwd / ".tscloud" / "deploys").glob("*-deploy-hello-site-dev.html"))
    assert len(pages) == 1
    rec = json.loads(pages[0].with_suffix(".json").read_text())
    assert rec["cost_inputs"]["preset"] == "static-site"

    shown = cli("status", "--timeline", cwd=cwd)
    assert shown.code == 0, shown.output
    assert shown.stdout.strip() == str(pages[0])
    assert shown.stderr.strip() == line.split(" (timeline:")[0]
    as_json = cli("--output", "json", "status", "--timeline", cwd=cwd).json()
    assert as_json["timeline"] == str(pages[0])

    dom = dump_dom(pages[0], tmp_path / "profile")
    bars = assert_scaled(dom)
    assert {b["data-step"] for b in bars} >= {"bucket", "distribution", "upload", "invalidation"}


def test_status_timeline_before_any_deploy(cli: Any, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "site", ignore=shutil.ignore_patterns(".tscloud"))
    result = cli("status", "--timeline", cwd=tmp_path / "site")
    assert result.code == 2 and "no deploy timeline for hello-site-dev" in result.stderr
