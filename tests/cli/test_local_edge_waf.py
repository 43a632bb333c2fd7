"""The local edge applies the distribution's web ACL (issue 25, "Done means" 3): after `--local deploy --serve`
with [waf], one client gets CloudFront's 403 once it is over the rate limit within the window and a viewer
from a blocked country is refused; in count mode the same requests pass, and `tscloud status` shows what was
blocked or counted, read from the emulator's CloudWatch as it is read from AWS's."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.cli.edge_support import deploy_and_serve, fetch
from tests.conftest import REPO, run_cli

EXAMPLE = REPO / "examples" / "static-site"
LIMIT = 10  # AWS's smallest rate limit


def project(root: Path, app: str, mode: str) -> Path:
    site = root / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns(".tscloud"))
    config = site / "tscloud.toml"
    config.write_text(config.read_text().replace('app = "hello-site"', f'app = "{app}"')
                      + f'\n[waf]\nmode = "{mode}"\nrate_limit_per_5min = {LIMIT}\nblock_countries = ["KP"]\n')
    return site


def waf_status(site: Path) -> dict[str, Any]:
    result = run_cli("--local", "--output", "json", "status", cwd=site)
    assert result.code == 0, result.output
    waf: dict[str, Any] = result.json()["live"]["waf"]
    return waf


def test_block_mode_answers_403_over_the_limit_and_for_a_blocked_country(tmp_path: Path) -> None:
    site = project(tmp_path, "waf-block", "block")
    with deploy_and_serve(site) as served:
        statuses = [fetch(served.url + "/").status for _ in range(LIMIT)]
        assert statuses == [200] * LIMIT
        refused = fetch(served.url + "/")
        assert refused.status == 403
        assert b"Request blocked." in refused.body
        assert refused.headers["x-cache"] == "Error from cloudfront"
        assert fetch(served.url + "/index.html").status == 403  # the same client, any path

        status = waf_status(site)
    assert status["mode"] == "block"
    assert status["blocked_last_hour"] == 2 and status["counted_last_hour"] == 0
    assert status["by_rule"] == {"rate-limit": "2 blocked, 0 counted"}


def test_country_block_and_count_mode_lets_requests_through_and_status_counts_them(tmp_path: Path) -> None:
    site = project(tmp_path, "waf-count", "count")
    with deploy_and_serve(site) as served:
        statuses = [fetch(served.url + "/").status for _ in range(LIMIT + 5)]
        assert statuses == [200] * (LIMIT + 5)
        from_kp = fetch(served.url + "/", headers={"CloudFront-Viewer-Country": "KP"})
        assert from_kp.status == 200
        assert any("counted by waf-count-dev-use1-waf-block-countries" in note
                   for note in from_kp.values("x-tscloud-note"))
        status = waf_status(site)
    assert status["mode"] == "count"
    assert status["blocked_last_hour"] == 0
    # requests 11..16 were over the limit (the 16th from KP, counted twice)
    assert status["by_rule"] == {"block-countries": "0 blocked, 1 counted", "rate-limit": "0 blocked, 6 counted"}
    assert status["counted_last_hour"] == 7


def test_block_mode_refuses_a_viewer_from_a_blocked_country(tmp_path: Path) -> None:
    site = project(tmp_path, "waf-geo", "block")
    with deploy_and_serve(site) as served:
        assert fetch(served.url + "/", headers={"CloudFront-Viewer-Country": "KP"}).status == 403
        assert fetch(served.url + "/", headers={"CloudFront-Viewer-Country": "NL"}).status == 200
