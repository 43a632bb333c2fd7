"""`tscloud status --timeline`: the last deploy's timeline page (printed; opened on a terminal)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from tscloud_py.errors import NotDeployedError

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext


def show_timeline(app: AppContext) -> None:
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.operations.timeline import analyse, latest_timeline

    deploys = app.project_dir / ".tscloud" / "deploys"
    app_name = stage = None
    if app.config_path.exists():
        config = app.config()
        app_name, stage = config.app, config.stage
    page = latest_timeline(deploys, app_name, stage)
    if page is None:
        scope = f" for {app_name}-{stage}" if app_name else ""
        raise NotDeployedError(f"no deploy timeline{scope} in {deploys}",
                               "every `tscloud deploy` writes one; deploy first")
    summary: str | None = None
    record = page.with_suffix(".json")
    if record.exists():
        try:
            summary = analyse(json.loads(record.read_text(encoding="utf-8"))).summary()
        except (ValueError, KeyError, TypeError):
            summary = None
    if app.json:
        doc: dict[str, Any] = {"timeline": str(page), "critical_path": summary}
        print_json(doc)
        return
    echo(str(page))
    if summary:
        echo(summary, err=True)
    if sys.stdout.isatty():
        import webbrowser

        webbrowser.open(page.resolve().as_uri())
