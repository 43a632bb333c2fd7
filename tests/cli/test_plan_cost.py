"""`plan` shows the cost delta against the inputs recorded by the last deploy (and destroy)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.cli.state_support import journal as state_journal

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "ssr-app"


def test_plan_cost_delta_follows_deploys_and_destroys(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app", ignore=shutil.ignore_patterns(".tscloud"))
    cwd = tmp_path / "app"
    target = ("--endpoint-url", moto_server.endpoint)

    fresh = cli(*target, "--output", "json", "plan", cwd=cwd).json()["cost"]
    assert fresh["previous_monthly_usd"] is None and fresh["monthly_usd"] == 7.40   # see test_cost_examples

    assert cli(*target, "deploy", cwd=cwd).code == 0
    journal = state_journal(moto_server.endpoint, "shop")
    assert journal is not None and journal["last_run"]["cost_inputs"]["functions"][0]["memory"] == 2048

    same = cli(*target, "--output", "json", "plan", cwd=cwd).json()["cost"]
    assert same["previous_monthly_usd"] == 7.40 and same["delta_usd"] == 0.0

    toml = cwd / "tscloud.toml"
    toml.write_text(toml.read_text().replace("memory = 2048", "memory = 1024"))
    # server: 1,000,000 x 0.2 s x (1 - 2) GB = -200,000 GB-s x $0.0000133334 = -2.66668
    smaller = cli(*target, "--output", "json", "plan", cwd=cwd).json()["cost"]
    assert smaller["delta_usd"] == -2.67 and smaller["changed_items"] == {"lambda:server": -2.67}
    text = cli(*target, "plan", cwd=cwd)
    assert "cost: ~$4.73/month, -$2.67 vs the last deploy ($7.40): lambda:server -$2.67" in text.stdout

    assert cli(*target, "--yes", "destroy", cwd=cwd).code == 0
    gone = cli(*target, "--output", "json", "plan", cwd=cwd).json()["cost"]
    assert gone["previous_monthly_usd"] == 0.0 and gone["delta_usd"] == gone["monthly_usd"] == 4.73
