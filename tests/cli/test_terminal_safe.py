"""What the state bucket or a provider's API says reaches the terminal harmless: an OSC 52 clipboard write
and a bare ESC in a journal output or a lock holder's name print as visible escapes in text mode (`status`,
`outputs`, the lock refusal, `state show`) and exactly in JSON; a DNS API that echoes its token altered
(cut short, less one character, upper-cased, split in two) shows no 8-character piece of it, `-v` included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli import state_support as state
from tests.cli.site_support import boto, deploy_json, make_site, tscloud
from tests.conftest import MotoServer, run_cli
from tests.fakes import cloudflare as cf_fake
from tests.fakes.echo_api import ALTERATIONS, EchoApi
from tscloud_py import redact

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
HOSTILE = f"evil{OSC52}name\x1bend"


def _harmless(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, text
    assert "\\x1b]52;c;cm0gLXJmIH4K\\x07" in text and "name\\x1bend" in text, text


def _put(endpoint: str, key: str, body: bytes) -> None:
    boto(endpoint, "s3").put_object(Bucket=state.state_bucket(), Key=key, Body=body)


def test_a_journal_output_prints_as_visible_escapes(moto_server: MotoServer, tmp_path: Path) -> None:
    app = "term-journal"
    project = make_site(tmp_path, app)
    deploy_json(project, moto_server.endpoint)
    journal = state.journal(moto_server.endpoint, app)
    assert journal is not None
    journal["steps"]["distribution"]["outputs"]["distribution_domain"] = HOSTILE
    _put(moto_server.endpoint, f"journals/{app}/dev.json", json.dumps(journal).encode())

    outputs = tscloud(project, moto_server.endpoint, "outputs")
    assert outputs.code == 0, outputs.output
    _harmless(outputs.stdout)
    status = tscloud(project, moto_server.endpoint, "status")
    assert status.code == 0, status.output
    _harmless(status.stdout)
    as_json = tscloud(project, moto_server.endpoint, "--output", "json", "outputs")
    assert as_json.json()["distribution_domain"] == HOSTILE  # JSON stays exact


def test_a_lock_holder_prints_as_visible_escapes(moto_server: MotoServer, tmp_path: Path) -> None:
    app = "term-lock"
    project = make_site(tmp_path, app)
    state.ensure_bucket(moto_server.endpoint)
    holder = {"user": HOSTILE, "host": f"host{OSC52}", "pid": 4242, "command": "tscloud deploy",
              "started": "2026-01-01T00:00:00Z", "run": "ab12", "lease_seconds": 600}
    _put(moto_server.endpoint, f"locks/{app}/dev", json.dumps(holder).encode())

    refused = tscloud(project, moto_server.endpoint, "deploy")
    assert refused.code == 1, refused.output
    assert "is locked by" in refused.stderr
    _harmless(refused.stderr)
    shown = tscloud(project, moto_server.endpoint, "state", "show")
    assert shown.code == 0, shown.output
    _harmless(shown.stdout)
    as_json = tscloud(project, moto_server.endpoint, "--output", "json", "state", "show")
    assert as_json.json()["lock"]["holder"]["user"] == HOSTILE
    unlocked = tscloud(project, moto_server.endpoint, "--yes", "state", "unlock")
    assert unlocked.code == 0, unlocked.output
    _harmless(unlocked.stdout)
    assert state.lock(moto_server.endpoint, app) is None


def _any_case_pieces(text: str, secret: str) -> list[str]:
    n, lowered = redact.PIECE, text.lower()
    return [secret[i:i + n] for i in range(len(secret) - n + 1) if secret[i:i + n].lower() in lowered]


@pytest.mark.parametrize("verbose", [False, True], ids=["plain", "verbose"])
@pytest.mark.parametrize("alter", [a for a in ALTERATIONS if a != "exact"])
def test_an_altered_token_echo_shows_no_piece(alter: str, verbose: bool, tmp_path: Path) -> None:
    api = EchoApi(status=400, shape="json", alter=alter)
    with api.running():
        env = {"TSCLOUD_CLOUDFLARE_API_URL": api.url + "/client/v4", "CLOUDFLARE_API_TOKEN": cf_fake.TOKEN}
        args: list[str] = ["-v"] if verbose else []
        result: Any = run_cli(*args, "dns", "records", "example.com", "--provider", "cloudflare",
                              cwd=tmp_path, env=env)
    assert result.code in (1, 2), result.output
    assert api.requests > 0
    assert "***" in result.stderr
    assert not _any_case_pieces(result.output, cf_fake.TOKEN), result.output
