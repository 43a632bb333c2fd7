"""`tscloud cost` for every bundled example matches a figure computed by hand here.

Prices: tscloud_py/data/prices.json, us-east-1, as of 2026-11-23. Assumptions: the defaults of
`tscloud cost` (1,000,000 requests/month, 10 GB out, 0.9 cache hit ratio, 200 ms Lambda duration,
100,000 worker messages, 2 ALB AZs), 730 hours a month.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
GIB = 1024**3


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cost(cli: Any, example: str, *extra: str) -> dict[str, Any]:
    result = cli("--output", "json", "cost", *extra, cwd=EXAMPLES / example)
    assert result.code == 0, result.output
    doc: dict[str, Any] = result.json()
    assert doc["prices_as_of"] == "2026-11-23" and doc["currency"] == "USD"
    assert doc["total_usd"] == pytest.approx(round(sum(i["usd"] for i in doc["items"]), 2), abs=0.006)
    return doc


def items(doc: dict[str, Any]) -> dict[str, float]:
    return {i["id"]: i["usd"] for i in doc["items"]}


def test_static_site(cli: Any) -> None:
    doc = cost(cli, "static-site")
    site_gb = dir_bytes(EXAMPLES / "static-site" / "dist") / GIB
    hand = {
        "cloudfront-data": 10 * 0.085,                         # 10 GB x $0.085        = 0.85
        "cloudfront-requests": 1_000_000 / 10_000 * 0.01,      # 100 x $0.01           = 1.00
        # 100,000 origin GETs (10 % misses) / 1,000 x $0.0004 = 0.04, plus a few KB stored
        "s3": 1_000_000 * 0.1 / 1000 * 0.0004 + site_gb * 0.023,
    }
    assert items(doc) == pytest.approx(hand, abs=1e-6)
    assert doc["total_usd"] == 1.89                             # 0.85 + 1.00 + 0.04


def test_fullstack_app(cli: Any) -> None:
    doc = cost(cli, "fullstack-app")
    site_gb = dir_bytes(EXAMPLES / "fullstack-app" / "public") / GIB
    hand = {
        # 1 task x 730 h x (0.25 vCPU x $0.04048 + 0.5 GB x $0.004445) = 730 x 0.0123425 = 9.010025
        "fargate:api": 1 * 730 * (0.25 * 0.04048 + 0.5 * 0.004445),
        "ipv4:api": 1 * 730 * 0.005,                            # default VPC: task has a public IP = 3.65
        "alb": 730 * 0.0225,                                     # 16.425
        # LCU-hours = max(1,000,000 new connections / 25 per s / 3600 s, 10 GB / 1 GB) = 11.111
        "alb-lcu": max(1_000_000 / 25 / 3600, 10 / 1) * 0.008,   # 0.0889
        "ipv4:alb": 2 * 730 * 0.005,                             # 7.30
        "database": 730 * 0.016,                                 # db.t4g.micro: 11.68
        "database-storage": 20 * 0.115,                          # 20 GB gp3: 2.30
        "cache": 1 * 730 * 0.016,                                # cache.t4g.micro: 11.68
        "cloudfront-data": 10 * 0.085,                           # 0.85
        "cloudfront-requests": 100 * 0.01,                       # 1.00
        "s3": 100_000 / 1000 * 0.0004 + site_gb * 0.023,         # 0.04
    }
    assert items(doc) == pytest.approx(hand, abs=1e-6)
    # 9.010025 + 3.65 + 16.425 + 0.088889 + 7.30 + 11.68 + 2.30 + 11.68 + 0.85 + 1.00 + 0.04 = 64.023914
    assert doc["total_usd"] == 64.02


def test_fullstack_always_on_baseline_at_zero_traffic(cli: Any) -> None:
    """The guide quotes this: what the fullstack example costs with no traffic at all."""
    doc = cost(cli, "fullstack-app", "--requests-per-month", "0", "--gb-out-per-month", "0")
    # 9.010025 + 3.65 + 16.425 + 0 + 7.30 + 11.68 + 2.30 + 11.68 + 0 + 0 + 0 (+ a few KB of S3) = 62.045025
    assert doc["total_usd"] == 62.05


def test_ssr_app(cli: Any) -> None:
    doc = cost(cli, "ssr-app")
    public_gb = dir_bytes(EXAMPLES / "ssr-app" / ".output" / "public") / GIB
    hand = {
        # 1,000,000 invocations x 0.2 s x 2 GB = 400,000 GB-s x $0.0000133334 (arm64) = 5.33336
        # + 1 M requests x $0.20 = 0.20
        "lambda:server": 400_000 * 0.0000133334 + 1 * 0.20,
        # worker jobs: 100,000 messages / batch 10 = 10,000 invocations x 0.2 s x 0.5 GB = 1,000 GB-s
        # x $0.0000133334 = 0.0133334, + 0.01 M requests x $0.20 = 0.002
        "lambda:worker jobs": 1_000 * 0.0000133334 + 0.01 * 0.20,
        "cloudfront-data": 0.85,
        "cloudfront-requests": 1.00,
        "s3": public_gb * 0.023,                                 # storage only: assets are counted at CloudFront
    }
    assert items(doc) == pytest.approx(hand, abs=1e-6)
    assert doc["total_usd"] == 7.40                              # 5.53336 + 0.0153334 + 0.85 + 1.00 = 7.39869


def test_api_domain_creates_nothing_billable(cli: Any) -> None:
    doc = cost(cli, "api-domain")
    assert doc["items"] == [] and doc["total_usd"] == 0.0


def test_text_output_lists_items_total_and_assumptions(cli: Any) -> None:
    result = cli("cost", cwd=EXAMPLES / "fullstack-app")
    assert result.code == 0, result.output
    out = result.stdout
    assert "prices as of 2026-11-23" in out
    assert "RDS PostgreSQL db.t4g.micro" in out and "11.68" in out
    assert "total" in out and "64.02" in out
    assert "--requests-per-month" in out and "not included:" in out


def test_flags_change_the_estimate(cli: Any) -> None:
    doc = cost(cli, "static-site", "--requests-per-month", "10000000", "--gb-out-per-month", "100")
    # 100 GB x 0.085 = 8.50; 1,000 x 0.01 = 10.00; 1,000,000 GETs / 1,000 x 0.0004 = 0.40
    assert doc["total_usd"] == 18.90
    assert doc["assumptions"]["requests_per_month"] == 10_000_000


def test_price_region(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "tscloud.toml").write_text('app = "x1"\npreset = "fullstack-app"\nregion = "sa-east-1"\n'
                                           '[api]\nimage = "nginx:1"\n')
    missing = cli("cost", cwd=tmp_path)
    assert missing.code == 2 and "no bundled prices for region sa-east-1" in missing.stderr
    assert "--price-region" in missing.stderr
    result = cli("--output", "json", "cost", "--price-region", "eu-central-1", cwd=tmp_path)
    assert result.code == 0, result.output
    # eu-central-1: 730 x (0.25 x 0.04656 + 0.5 x 0.00511) = 730 x 0.0141950 = 10.36235
    assert items(result.json())["fargate:api"] == pytest.approx(730 * (0.25 * 0.04656 + 0.5 * 0.00511))


def test_web_acl_and_alarms(cli: Any, tmp_path: Path) -> None:
    """static-site with [waf] (a rate limit, one path limit, the 3 default managed groups, a country rule) and
    [alerts] (one alarm on the distribution's 5xx rate, one dashboard)."""
    shutil.copytree(EXAMPLES / "static-site", tmp_path / "site", ignore=shutil.ignore_patterns(".tscloud"))
    config = tmp_path / "site" / "tscloud.toml"
    config.write_text(config.read_text() + '\n[waf]\nrate_limit_paths = { "/login" = 100 }\nblock_countries = ["KP"]\n'
                      '\n[alerts]\nemail = "ops@example.com"\n')
    result = cli("--output", "json", "cost", cwd=tmp_path / "site")
    assert result.code == 0, result.output
    found = items(result.json())
    assert found["waf"] == pytest.approx(5.00 + 6 * 1.00)          # web ACL + 6 rules          = 11.00
    assert found["waf-requests"] == pytest.approx(1 * 0.60)         # 1 M requests x $0.60      = 0.60
    assert found["alarms"] == pytest.approx(1 * 0.10 + 3.00)        # 1 alarm metric + dashboard = 3.10
    assert result.json()["total_usd"] == 16.59                      # 1.89 + 11.00 + 0.60 + 3.10
