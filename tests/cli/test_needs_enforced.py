"""`needs` is enforced while a real preset runs: fullstack-app with every optional table on ([site] with its
own distribution, [database], [cache], [queue] with a worker service, [mail], [[schedules]], an HTTPS
[api] domain through Route53) plans and deploys against a moto server, and a second plan is all "none".

The runner and planner scope each step's context to its needs, so any step reading a step it does not
list fails that step (deploy) or the plan at once with "reads the outputs of ... add ... to its needs"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.site_support import boto, tscloud
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import aws_like_distribution_summaries

ZONE = "fsn-example.com"
CONFIG = f"""
app = "fsn"
preset = "fullstack-app"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
domain = "api.{ZONE}"

[site]
dir = "dist"

[database]

[cache]

[queue]
worker = "service"
worker_command = ["node", "worker.js"]

[mail]
domain = "{ZONE}"

[[schedules]]
name = "nightly"
expression = "rate(1 day)"
command = ["true"]

[dns]
provider = "route53"
"""


# one fullstack deploy with every table: a few minutes on a busy 2-core machine
@pytest.mark.timeout(900)
def test_every_fullstack_table_on_plans_and_deploys_with_needs_enforced(moto_server: MotoServer,
                                                                        tmp_path: Path) -> None:
    aws_like_distribution_summaries()
    endpoint = moto_server.endpoint
    boto(endpoint, "route53").create_hosted_zone(Name=ZONE, CallerReference="fsn")
    (tmp_path / "tscloud.toml").write_text(CONFIG)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<h1>fsn</h1>")

    before = tscloud(tmp_path, endpoint, "--output", "json", "plan")
    assert before.code == 0, before.output
    planned = {s["id"] for s in before.json()["steps"]}
    assert {"database", "cache", "queue", "mail", "schedules", "worker-service", "distribution",
            "api-certificate", "api-dns", "attach", "logs"} <= planned

    deployed = tscloud(tmp_path, endpoint, "--output", "json", "deploy", timeout=600)
    assert deployed.code == 0, deployed.output
    assert "needs" not in deployed.stderr
    assert {s["id"] for s in deployed.json()["steps"]} == planned

    after = tscloud(tmp_path, endpoint, "--output", "json", "plan")
    assert after.code == 0, after.output
    assert {s["id"]: s["action"] for s in after.json()["steps"]} == dict.fromkeys(planned, "none")
