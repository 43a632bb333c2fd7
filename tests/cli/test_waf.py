"""[waf] through the real CLI (issue 25, "Done means" 3): the web ACL is made in us-east-1 with scope CLOUDFRONT and
the rules the config names, the distribution names it by WebACLId, a redeploy writes nothing, a changed rule is
one UpdateWebACL carrying the token of the last read, and destroy removes it after the distribution. With
[waf] frontend = true the [frontend] distribution (not ours) gets it too, unless it names another web ACL:
then nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.site_support import boto, deploy_json, make_site, tscloud
from tests.cli.test_fullstack_cli import existing_distribution
from tests.conftest import MotoServer
from tests.fakes.aws_proxy import AwsProxy

WAF = ('\n[waf]\nmode = "count"\nrate_limit_per_5min = 500\nrate_limit_paths = { "/api/" = 100 }\n'
       'block_countries = ["KP"]\nmanaged_rules = ["AWSManagedRulesCommonRuleSet"]\n')


def web_acls(endpoint: str, name: str) -> list[dict[str, Any]]:
    waf = boto(endpoint, "wafv2")
    found = [s for s in waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"] if s["Name"] == name]
    return [waf.get_web_acl(Name=s["Name"], Scope="CLOUDFRONT", Id=s["Id"])["WebACL"] for s in found]


def test_web_acl_created_attached_unchanged_on_redeploy_and_destroyed(proxy: AwsProxy, moto_server: MotoServer,
                                                                      tmp_path: Path) -> None:
    app = "waf-site"
    project = make_site(tmp_path, app)
    config = project / "tscloud.toml"
    config.write_text(config.read_text() + WAF)
    plan = tscloud(project, proxy.endpoint, "--output", "json", "plan")
    assert plan.code == 0, plan.output
    actions = {s["id"]: s["action"] for s in plan.json()["steps"]}
    assert actions["web-acl"] == "create"

    outputs = deploy_json(project, proxy.endpoint)["outputs"]
    (acl,) = web_acls(moto_server.endpoint, f"{app}-dev-use1-waf")
    assert acl["ARN"].startswith("arn:aws:wafv2:us-east-1:") and ":global/webacl/" in acl["ARN"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    assert list(rules) == ["block-countries", "rate-limit-api", "rate-limit", "AWSManagedRulesCommonRuleSet"]
    assert rules["block-countries"]["Statement"]["GeoMatchStatement"]["CountryCodes"] == ["KP"]
    assert rules["rate-limit"]["Statement"]["RateBasedStatement"]["Limit"] == 500
    scoped = rules["rate-limit-api"]["Statement"]["RateBasedStatement"]
    assert scoped["Limit"] == 100 and scoped["ScopeDownStatement"]["ByteMatchStatement"]["PositionalConstraint"] \
        == "STARTS_WITH"
    assert all(r.get("Action") == {"Count": {}} for n, r in rules.items() if not n.startswith("AWSManaged"))
    assert rules["AWSManagedRulesCommonRuleSet"]["OverrideAction"] == {"Count": {}}
    assert acl["DefaultAction"] == {"Allow": {}}
    dist = boto(moto_server.endpoint, "cloudfront").get_distribution_config(Id=outputs["distribution_id"])
    assert dist["DistributionConfig"]["WebACLId"] == acl["ARN"]

    with proxy.recording() as requests:
        again = deploy_json(project, proxy.endpoint)
    assert {s["status"] for s in again["steps"]} <= {"unchanged"}, again["steps"]
    assert [r.api_operation for r in requests if r.resource_write] == []

    config.write_text(config.read_text().replace('mode = "count"', 'mode = "block"'))
    with proxy.recording() as requests:
        deploy_json(project, proxy.endpoint)
    writes = [r.api_operation for r in requests if r.resource_write]
    assert writes == ["UpdateWebACL"]
    (acl,) = web_acls(moto_server.endpoint, f"{app}-dev-use1-waf")
    assert {r["Name"]: r.get("Action") for r in acl["Rules"]}["rate-limit"] == {"Block": {}}

    result = tscloud(project, proxy.endpoint, "--output", "json", "--yes", "destroy")
    assert result.code == 0, result.output
    assert {s["id"]: s["status"] for s in result.json()["steps"]}["web-acl"] == "deleted"
    assert web_acls(moto_server.endpoint, f"{app}-dev-use1-waf") == []


def test_prod_stage_gets_a_web_acl_by_default_and_dev_none(moto_server: MotoServer, tmp_path: Path) -> None:
    prod = make_site(tmp_path / "prod", "waf-default", stage="prod")
    dev = make_site(tmp_path / "dev", "waf-default")
    plans = {}
    for name, project in (("prod", prod), ("dev", dev)):
        result = tscloud(project, moto_server.endpoint, "--output", "json", "plan")
        assert result.code == 0, result.output
        plans[name] = [s["id"] for s in result.json()["steps"]]
    assert "web-acl" in plans["prod"] and "web-acl" not in plans["dev"]


@pytest.mark.parametrize(("table", "key"), [
    ('[waf]\nrate_limit_per_5min = 5\n', "waf.rate_limit_per_5min"),
    ('[waf]\nrate_limit_paths = { "/api/" = 3000 }\n', "waf.rate_limit_paths./api/"),
    ('[waf]\nblock_countries = ["Korea"]\n', "waf.block_countries[0]"),
    ('[waf]\nmode = "log"\n', "waf.mode"),
    ('[waf]\nfrontend = true\n', "waf.frontend"),
])
def test_bad_waf_config_exits_2_naming_the_key(moto_server: MotoServer, tmp_path: Path, table: str, key: str) -> None:
    project = make_site(tmp_path, "waf-bad")
    config = project / "tscloud.toml"
    config.write_text(config.read_text() + "\n" + table)
    result = tscloud(project, moto_server.endpoint, "plan")
    assert result.code == 2, result.output
    assert key in result.output


def fullstack_with_frontend(root: Path, app: str, distribution_id: str) -> Path:
    """The smallest fullstack-app that splices into [frontend] and asks for the web ACL on it too."""
    project = root / app
    project.mkdir(parents=True)
    (project / "tscloud.toml").write_text(f"""
app = "{app}"
preset = "fullstack-app"
region = "us-east-1"

[api]
image = "public.ecr.aws/docker/library/nginx:1.27-alpine"
port = 80
health_check = "/"
origin = "public"

[frontend]
distribution_id = "{distribution_id}"

[waf]
frontend = true
""")
    return project


def test_frontend_distribution_gets_the_web_acl_only_when_asked_and_never_over_another(
        proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    endpoint = moto_server.endpoint
    cf = boto(endpoint, "cloudfront")
    theirs, _ = existing_distribution(endpoint, "wafff-theirs")
    other_acl = boto(endpoint, "wafv2").create_web_acl(
        Name="someone-elses", Scope="CLOUDFRONT", DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                          "MetricName": "someone-elses"})["Summary"]["ARN"]
    live = cf.get_distribution_config(Id=theirs)
    cf.update_distribution(Id=theirs, IfMatch=live["ETag"], DistributionConfig={**live["DistributionConfig"],
                                                                                "WebACLId": other_acl})
    refused = fullstack_with_frontend(tmp_path, "wafff-refused", theirs)
    with proxy.recording() as requests:
        result = tscloud(refused, proxy.endpoint, "--yes", "deploy", timeout=400)
    assert result.code == 2 and "waf.frontend" in result.output, result.output
    assert f"distribution {theirs} has another web ACL" in result.output
    assert [r.api_operation for r in requests if r.resource_write] == []
    assert cf.get_distribution_config(Id=theirs)["DistributionConfig"]["WebACLId"] == other_acl

    app = "wafff"
    dist_id, _ = existing_distribution(endpoint, app)
    project = fullstack_with_frontend(tmp_path, app, dist_id)
    deploy_json(project, proxy.endpoint)
    (acl,) = web_acls(endpoint, f"{app}-dev-use1-waf")
    assert cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["WebACLId"] == acl["ARN"]

    with proxy.recording() as requests:
        again = deploy_json(project, proxy.endpoint)
    assert {s["status"] for s in again["steps"]} <= {"unchanged"}, again["steps"]
    assert [r.api_operation for r in requests if r.resource_write] == []

    gone = tscloud(project, proxy.endpoint, "--yes", "destroy", "--no-snapshot", timeout=400)
    assert gone.code == 0, gone.output
    assert cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["WebACLId"] == ""
    assert web_acls(endpoint, f"{app}-dev-use1-waf") == []
