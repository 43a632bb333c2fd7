"""`tscloud cloudfront ...` end to end: the real CLI against a moto server behind the strict CloudFront layer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, MotoServer, run_cli
from tests.fakes.strict_cloudfront import StrictCloudFrontProxy, sample_distribution_config

ALB = "shop-dev-alb-1234567890.us-east-1.elb.amazonaws.com"
SECRET = "verify-Q7xL2mR9tV4bN8cW3dH6jK5pZ1"  # no 8-character run in common with the ALB name or an ARN


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[StrictCloudFrontProxy]:
    p = StrictCloudFrontProxy(moto_server.endpoint)
    p.start()
    yield p
    p.stop()


@pytest.fixture
def boto(proxy: StrictCloudFrontProxy) -> Any:
    import boto3

    return boto3.client("cloudfront", region_name="us-east-1", endpoint_url=proxy.endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def dist_id(boto: Any) -> str:
    """Set up directly with boto3: two origins, one cache behavior, custom error responses."""
    created = boto.create_distribution(DistributionConfig=sample_distribution_config(uuid.uuid4().hex[:12]))
    return str(created["Distribution"]["Id"])


def tscloud(proxy: StrictCloudFrontProxy, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli("--endpoint-url", proxy.endpoint, *args, cwd=tmp_path, env=env)


def live_config(boto: Any, dist_id: str) -> dict[str, Any]:
    return dict(boto.get_distribution_config(Id=dist_id)["DistributionConfig"])


def test_add_show_rerun_remove_round_trip(proxy: StrictCloudFrontProxy, boto: Any, dist_id: str,
                                          tmp_path: Path) -> None:
    original = live_config(boto, dist_id)
    add = ("cloudfront", "add-origin", dist_id, "--origin-id", "api", "--domain", ALB, "--path-pattern", "/api/*")

    first = tscloud(proxy, tmp_path, *add)
    assert first.code == 0, first.output
    assert f"created: origin api + behavior /api/* on distribution {dist_id}" in first.stdout
    assert len(proxy.writes(dist_id)) == 1
    etag_after_add = proxy.etag(dist_id)
    spliced = live_config(boto, dist_id)
    assert [o["Id"] for o in spliced["Origins"]["Items"]] == ["site", "media", "api"]
    api = spliced["Origins"]["Items"][2]
    assert api["DomainName"] == ALB
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomOriginConfig"]["OriginSslProtocols"]["Items"] == ["TLSv1.2"]
    assert spliced["CustomErrorResponses"] == original["CustomErrorResponses"]

    show = tscloud(proxy, tmp_path, "cloudfront", "show", dist_id)
    assert show.code == 0, show.output
    lines = [line.split() for line in show.stdout.splitlines() if "->" in line]
    assert [(cols[0], cols[1], cols[3]) for cols in lines] == [
        ("1.", "/media/*", "media"), ("2.", "/api/*", "api"), ("default", "*", "site")]

    shown = tscloud(proxy, tmp_path, "--output", "json", "cloudfront", "show", dist_id).json()
    assert [(b["path_pattern"], b["target_origin_id"], b["default"]) for b in shown["behaviors"]] == [
        ("/media/*", "media", False), ("/api/*", "api", False), ("*", "site", True)]
    assert shown["behaviors"][1]["cache_policy"] == "CachingDisabled"
    assert shown["behaviors"][1]["origin_request_policy"] == "AllViewerExceptHostHeader"

    proxy.clear_log()
    again = tscloud(proxy, tmp_path, "--output", "json", *add)
    assert again.code == 0, again.output
    doc = again.json()
    assert (doc["status"], doc["written"], doc["position"]) == ("unchanged", False, 2)
    assert proxy.writes() == []  # no PUT, no POST, no DELETE reached the emulator
    assert proxy.etag(dist_id) == etag_after_add

    removed = tscloud(proxy, tmp_path, "--output", "json", "cloudfront", "remove-origin", dist_id,
                      "--origin-id", "api")
    assert removed.code == 0, removed.output
    assert removed.json()["status"] == "deleted"
    assert json.dumps(live_config(boto, dist_id), sort_keys=True, default=str) == \
        json.dumps(original, sort_keys=True, default=str)


def test_dry_run_prints_a_diff_writes_nothing_and_masks_the_secret(proxy: StrictCloudFrontProxy, dist_id: str,
                                                                   tmp_path: Path) -> None:
    proxy.clear_log()
    args = ("cloudfront", "add-origin", dist_id, "--origin-id", "api", "--domain", ALB, "--path-pattern", "api/*",
            "--origin-verify-secret-env", "API_VERIFY", "--header", "X-Env=dev", "--dry-run")
    text = tscloud(proxy, tmp_path, *args, env={"API_VERIFY": SECRET})
    assert text.code == 0, text.output
    assert text.stdout.startswith(f"+ origin api -> {ALB}\n+ behavior api/* -> api (position 2 of 2")
    assert "dry run: would be created; nothing written" in text.stdout
    as_json = tscloud(proxy, tmp_path, "--output", "json", *args, env={"API_VERIFY": SECRET})
    doc = as_json.json()
    assert (doc["status"], doc["dry_run"], doc["written"]) == ("created", True, False)
    assert "+ origin api" in doc["diff"]
    for output in (text.output, as_json.output, doc["diff"]):
        assert SECRET not in output
    assert "veri…(33 chars)" in text.stdout and "veri…(33 chars)" in doc["diff"]
    assert proxy.writes() == []


def test_wait_and_invalidate(proxy: StrictCloudFrontProxy, dist_id: str, tmp_path: Path) -> None:
    add = tscloud(proxy, tmp_path, "--output", "json", "cloudfront", "add-origin", dist_id, "--origin-id", "fn",
                  "--domain", "abc123.lambda-url.us-east-1.on.aws", "--path-pattern", "/fn/*", "--no-compress",
                  "--allowed-methods", "get-head", "--cache-policy-id", "658327ea-f89d-4fab-a63d-7e88639e58f6",
                  "--wait")
    assert add.code == 0, add.output
    assert add.json()["deployed"] is True and add.json()["status"] == "created"
    inv = tscloud(proxy, tmp_path, "cloudfront", "invalidate", dist_id, "/index.html", "/fn/*", "--wait")
    assert inv.code == 0, inv.output
    assert "Completed" in inv.stdout and "waiting for invalidation" in inv.stderr
    doc = tscloud(proxy, tmp_path, "--output", "json", "cloudfront", "invalidate", dist_id, "/a").json()
    assert doc["paths"] == ["/a"] and doc["invalidation_id"]


@pytest.mark.parametrize(("args", "needle"), [
    (("add-origin", "{id}", "--origin-id", "api", "--domain", "https://alb.example.com", "--path-pattern", "/api/*"),
     "--domain"),
    (("add-origin", "{id}", "--origin-id", "api", "--domain", ALB, "--path-pattern", "/*"), "--path-pattern"),
    (("add-origin", "{id}", "--origin-id", "media", "--domain", ALB, "--path-pattern", "/api/*"), "--origin-id"),
    (("add-origin", "{id}", "--origin-id", "api", "--domain", ALB, "--path-pattern", "/api/*", "--protocol", "ftp"),
     "--protocol"),
    (("add-origin", "{id}", "--origin-id", "api", "--domain", ALB, "--path-pattern", "/api/*", "--header", "novalue"),
     "--header"),
    (("add-origin", "{id}", "--origin-id", "api", "--domain", ALB, "--path-pattern", "/api/*", "--max-behaviors", "1"),
     "cache-behavior quota"),
    (("remove-origin", "{id}", "--origin-id", "site"), "--origin-id"),
    (("show", "ENOSUCHDIST00"), "unknown distribution id"),
    (("add-origin", "ENOSUCHDIST00", "--origin-id", "api", "--domain", ALB, "--path-pattern", "/api/*"),
     "unknown distribution id"),
    (("invalidate", "{id}", "index.html"), "PATH"),
    (("show", "not-an-id"), "ID"),
])
def test_refusals_are_one_line_and_exit_2(proxy: StrictCloudFrontProxy, dist_id: str, tmp_path: Path,
                                          args: tuple[str, ...], needle: str) -> None:
    proxy.clear_log()
    result = tscloud(proxy, tmp_path, "cloudfront", *(a.replace("{id}", dist_id) for a in args))
    assert result.code == 2, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and needle in error_lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert proxy.writes() == []
    as_json = tscloud(proxy, tmp_path, "--output", "json", "cloudfront", *(a.replace("{id}", dist_id) for a in args))
    assert as_json.code == 2 and needle in as_json.json()["error"]


def test_race_through_the_cli_keeps_the_other_writers_change(proxy: StrictCloudFrontProxy, boto: Any,
                                                             dist_id: str, tmp_path: Path) -> None:
    def other_writer(config: dict[str, Any]) -> dict[str, Any]:
        config["Comment"] = "edited in the console meanwhile"
        return config

    proxy.race(dist_id, other_writer)
    result = tscloud(proxy, tmp_path, "--output", "json", "cloudfront", "add-origin", dist_id, "--origin-id", "api",
                     "--domain", ALB, "--path-pattern", "/api/*", "--origin-verify-secret-env", "API_VERIFY",
                     env={"API_VERIFY": SECRET})
    assert result.code == 0, result.output
    assert (result.json()["status"], result.json()["attempts"]) == ("created", 2)
    live = live_config(boto, dist_id)
    assert live["Comment"] == "edited in the console meanwhile"
    assert [o["Id"] for o in live["Origins"]["Items"]] == ["site", "media", "api"]
    assert [e.status for e in proxy.writes(dist_id) if "other writer" not in e.path] == [412, 200]

    for args in (("cloudfront", "show", dist_id), ("--output", "json", "cloudfront", "show", dist_id)):
        shown = tscloud(proxy, tmp_path, *args)
        assert shown.code == 0 and SECRET not in shown.output
    doc = tscloud(proxy, tmp_path, "--output", "json", "cloudfront", "show", dist_id).json()
    assert doc["origins"][2]["headers"] == {"X-Origin-Verify": "veri…(33 chars)"}

    proxy.clear_log()
    dry = tscloud(proxy, tmp_path, "cloudfront", "remove-origin", dist_id, "--origin-id", "api", "--dry-run")
    assert dry.code == 0 and dry.stdout.startswith("- origin api\n- behavior /api/* -> api")
    assert SECRET not in dry.output and proxy.writes() == []
