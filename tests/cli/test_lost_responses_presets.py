"""The lost-response sweep over static-site (alone, and behind [waf] with [alerts]), ssr-app (both origins) and
api-domain.

As in test_lost_responses.py: the proxy forwards each create call once and loses its answer (a 500 or a
dropped connection), for every create the preset makes (REST calls too: their operation is resolved from
botocore's models). The deploy converges in the same run, the inventory equals a clean deploy's, the next
deploy writes nothing, and a destroy leaves nothing tagged. A fake fault on a real moto server: no real
AWS loses an answer on demand. CI runs one loss mode per preset; bench/lost_response_sweep.py runs both.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.cli.site_support import all_roles
from tests.cli.test_lost_responses import FULL, each_create_once
from tests.conftest import REPO, MotoServer, run_cli
from tests.fakes import porkbun as pb_fake
from tests.fakes.aws_proxy import AwsProxy
from tests.fakes.moto_fixes import aws_like_base_path_mappings

REGIONS = {"api-domain": "eu-west-1"}


def client(endpoint: str, service: str, region: str = "us-east-1") -> Any:
    return boto3.session.Session(region_name=region).client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def inventory(endpoint: str, app: str, region: str) -> Counter[str]:
    """How many of each kind of resource carries ``app`` in its name (the presets' deterministic names)."""
    def c(service: str) -> Any:
        return client(endpoint, service, region)

    got: Counter[str] = Counter()
    lam = c("lambda")
    for fn in lam.list_functions()["Functions"]:
        if app in fn["FunctionName"]:
            got["function"] += 1
            got["event-source-mapping"] += len(
                lam.list_event_source_mappings(FunctionName=fn["FunctionName"])["EventSourceMappings"])
            with suppress(lam.exceptions.ResourceNotFoundException):  # moto serves no ListFunctionUrlConfigs
                got["function-url"] += bool(lam.get_function_url_config(FunctionName=fn["FunctionName"]))
    got["queue"] = len(c("sqs").list_queues(QueueNamePrefix=app).get("QueueUrls", []))
    got["role"] = len([r for r in all_roles(c("iam")) if app in r["RoleName"]])
    got["log-group"] = len([g for page in c("logs").get_paginator("describe_log_groups").paginate()
                            for g in page["logGroups"] if app in g["logGroupName"]])  # 50 a page
    got["bucket"] = len([b for b in c("s3").list_buckets()["Buckets"] if app in b["Name"]])
    cf = client(endpoint, "cloudfront")
    dists = cf.list_distributions()["DistributionList"].get("Items", [])
    got["distribution"] = len([d for d in dists if app in cf.get_distribution_config(Id=d["Id"])
                               ["DistributionConfig"]["Comment"]])
    got["oac"] = len([o for o in cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
                      if app in o["Name"]])
    got["cloudfront-function"] = len([f for f in cf.list_functions()["FunctionList"].get("Items", [])
                                      if app in f["Name"]])
    api = c("apigateway")
    for rest in api.get_rest_apis()["items"]:
        if app in rest["name"]:
            got["rest-api"] += 1
            got["rest-resource"] += len(api.get_resources(restApiId=rest["id"])["items"])
    for dn in api.get_domain_names()["items"]:
        if app in dn["domainName"]:
            got["domain-name"] += 1
            got["base-path-mapping"] += len(api.get_base_path_mappings(domainName=dn["domainName"])["items"])
    got["certificate"] = len([x for x in c("acm").list_certificates()["CertificateSummaryList"]
                              if app in x["DomainName"]])
    # a CLOUDFRONT web ACL, and the topic and alarms watching a distribution, live in us-east-1
    waf = client(endpoint, "wafv2")
    got["web-acl"] = len([a for a in waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"] if app in a["Name"]])
    for where in dict.fromkeys([region, "us-east-1"]):
        got["topic"] += len([t for t in client(endpoint, "sns", where).list_topics()["Topics"]
                             if app in t["TopicArn"]])
        cw = client(endpoint, "cloudwatch", where)
        got["alarm"] += len([a for a in cw.describe_alarms()["MetricAlarms"] if app in a["AlarmName"]])
        got["dashboard"] += len([d for d in cw.list_dashboards()["DashboardEntries"] if app in d["DashboardName"]])
    return +got


def assert_nothing_left(endpoint: str, app: str, region: str) -> None:
    tagging = client(endpoint, "resourcegroupstaggingapi", region)
    left = [r["ResourceARN"] for r in tagging.get_resources(
        TagFilters=[{"Key": "tscloud:app", "Values": [app]}])["ResourceTagMappingList"]]
    assert left == []
    assert inventory(endpoint, app, region) == Counter()


def static_site(tmp: Path, app: str, _extra: dict[str, str]) -> Path:
    project = tmp / app
    shutil.copytree(REPO / "examples" / "static-site", project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('app = "hello-site"', f'app = "{app}"'))
    return project


def static_site_edge(tmp: Path, app: str, extra: dict[str, str]) -> Path:
    """static-site behind a web ACL, its distribution watched by an alarm that mails someone."""
    project = static_site(tmp, app, extra)
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text() + '\n[waf]\nblock_countries = ["KP"]\n\n[alerts]\nemail = "ops@example.com"\n')
    return project


def ssr_app(origin: str) -> Callable[[Path, str, dict[str, str]], Path]:
    def make(tmp: Path, app: str, _extra: dict[str, str]) -> Path:
        project = tmp / app
        shutil.copytree(REPO / "examples" / "ssr-app", project, ignore=shutil.ignore_patterns(".tscloud"))
        toml = project / "tscloud.toml"
        toml.write_text(toml.read_text().replace('app = "shop"', f'app = "{app}"')
                        .replace('origin = "function-url"', f'origin = "{origin}"'))
        return project
    return make


def api_domain(tmp: Path, app: str, extra: dict[str, str]) -> Path:
    project = tmp / app
    project.mkdir()
    text = (REPO / "examples" / "api-domain" / "tscloud.toml").read_text()
    text = text.replace('"api.example.com"', f'"{app}.{extra["zone"]}"').replace('"a1b2c3d4e5"', f'"{extra["api"]}"')
    text = re.sub(r"^region = .*$", f'region = "{REGIONS["api-domain"]}"', text, flags=re.M)
    (project / "tscloud.toml").write_text(re.sub(r"^app = .*$", f'app = "{app}"', text, flags=re.M))
    return project


PRESETS: dict[str, Callable[[Path, str, dict[str, str]], Path]] = {
    "static-site": static_site,
    "static-site-edge": static_site_edge,
    "ssr-app": ssr_app("function-url"),
    "ssr-app-api-gateway": ssr_app("api-gateway"),
    "api-domain": api_domain,
}
# CI: one loss mode per preset (the two ssr-app origins split them); the bench adds the other.
CASES = [(p, m) for p in PRESETS for m in ("500", "drop")
         if FULL or (p, m) in {("static-site", "drop"), ("static-site-edge", "500"), ("ssr-app", "500"),
                               ("ssr-app-api-gateway", "drop"), ("api-domain", "500")}]


@pytest.fixture
def porkbun_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    aws_like_base_path_mappings(monkeypatch)  # the moto server runs in this process
    zone = f"lost{uuid.uuid4().hex[:8]}.com"
    fake = pb_fake.FakePorkbun(domains=(zone,))
    with fake.running():
        yield zone, {"TSCLOUD_PORKBUN_API_URL": fake.url + "/api/json/v3", "PORKBUN_API_KEY": pb_fake.API_KEY,
                     "PORKBUN_SECRET_API_KEY": pb_fake.SECRET_KEY}


def rest_api(endpoint: str) -> str:
    """The API an api-domain deploy maps (made beforehand, as the user's own API would be)."""
    api = client(endpoint, "apigateway", REGIONS["api-domain"])
    api_id = str(api.create_rest_api(name=f"orders-{uuid.uuid4().hex[:6]}")["id"])
    root = next(r["id"] for r in api.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    api.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


@pytest.mark.parametrize(("preset", "mode"), CASES)
def test_every_create_loses_its_first_answer(preset: str, mode: str, moto_server: MotoServer, tmp_path: Path,
                                             porkbun_zone: tuple[str, dict[str, str]]) -> None:
    zone, env = porkbun_zone
    region = REGIONS.get(preset, "us-east-1")
    tag = uuid.uuid4().hex[:6]
    app, ref = f"lost{tag}", f"ref{tag}"
    extra = {"zone": zone, "api": rest_api(moto_server.endpoint)} if preset == "api-domain" else {}
    make = PRESETS[preset]
    project, reference = make(tmp_path, app, extra), make(tmp_path, ref, extra)
    with AwsProxy(moto_server.endpoint) as proxy:
        clean = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=reference, env=env, timeout=600)
        assert clean.code == 0, clean.output[-3000:]
        want = inventory(moto_server.endpoint, ref, region)
        if preset == "api-domain":  # one domain: the reference gives it back before the lossy run takes it
            gone = run_cli("--endpoint-url", proxy.endpoint, "--yes", "destroy", cwd=reference, env=env, timeout=600)
            assert gone.code == 0, gone.output[-3000:]

        lost, pick = each_create_once()
        proxy.lose(pick, mode)
        first = run_cli("--endpoint-url", proxy.endpoint, "deploy", cwd=project, env=env, timeout=600)
        proxy.lose(None)
        print(f"{preset} ({mode}): lost the first answer of {sorted(lost)}")
        assert first.code == 0, first.output[-3000:]
        assert lost, "no create call was made"
        assert inventory(moto_server.endpoint, app, region) == want

        proxy.clear()
        again = run_cli("--endpoint-url", proxy.endpoint, "--output", "json", "deploy", cwd=project, env=env,
                        timeout=600)
        assert again.code == 0, again.output[-3000:]
        assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}
        assert [r.describe() for r in proxy.resource_writes()] == []

        for done in (project,) if preset == "api-domain" else (project, reference):
            gone = run_cli("--endpoint-url", proxy.endpoint, "--yes", "destroy", cwd=done, env=env, timeout=600)
            assert gone.code == 0, gone.output[-3000:]
    assert_nothing_left(moto_server.endpoint, app, region)
