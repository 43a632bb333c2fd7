"""[alerts] through the real CLI (issue 25, "Done means" 4): every alarm the fullstack and ssr examples call for
exists, named per stage and notifying the SNS topic the address is subscribed to (pending until it confirms, as
SNS answers); the stage's dashboard exists; a redeploy writes nothing; `status` lists alarms in ALARM first and
the pending subscription; destroy removes them all; a config without [alerts] makes none. A stage outside
us-east-1 gets its CloudFront alarm, and a topic for it, in us-east-1, where CloudFront's metrics are."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.cli.site_support import boto, make_site, tscloud
from tests.cli.test_iam_enforced import prove_enforced
from tests.conftest import REPO, MotoServer
from tests.fakes.aws_proxy import AwsProxy

EMAIL = "ops@example.com"
ALERTS = f'\n[alerts]\nemail = "{EMAIL}"\ndatabase_connections = 50\n'


def copy_example(tmp_path: Path, name: str, app: str, extra: str = "") -> Path:
    project = tmp_path / name
    shutil.copytree(REPO / "examples" / name, project, ignore=shutil.ignore_patterns(".tscloud"))
    config = project / "tscloud.toml"
    text = config.read_text()
    text = text.replace('app = "shopfs"', f'app = "{app}"').replace('app = "shop"', f'app = "{app}"')
    config.write_text(text + extra)
    return project


def alarms(endpoint: str, prefix: str, region: str = "us-east-1") -> dict[str, dict[str, Any]]:
    cw = boto(endpoint, "cloudwatch")
    if region != "us-east-1":
        import boto3

        cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=region,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    return {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]}


def topics(endpoint: str, name: str, region: str = "us-east-1") -> list[str]:
    import boto3

    sns = boto3.client("sns", endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    return [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{name}")]


def deploy(project: Path, endpoint: str) -> dict[str, Any]:
    result = tscloud(project, endpoint, "--output", "json", "deploy", timeout=400)
    assert result.code == 0, result.output
    doc: dict[str, Any] = result.json()
    return doc


def test_fullstack_alarms_topic_dashboard_redeploy_status_and_destroy(proxy: AwsProxy, moto_server: MotoServer,
                                                                      tmp_path: Path) -> None:
    app = "alfs"
    project = copy_example(tmp_path, "fullstack-app", app, ALERTS)
    deploy(project, proxy.endpoint)

    found = alarms(moto_server.endpoint, f"{app}-dev-alarm-")
    assert sorted(found) == sorted(f"{app}-dev-alarm-{n}" for n in (
        "api-5xx", "api-unhealthy", "api-running", "db-cpu", "db-storage", "db-connections", "redis-memory",
        "redis-evictions", "queue-dlq", "queue-age", "cdn-5xx"))
    (topic,) = topics(moto_server.endpoint, f"{app}-dev-alerts")
    assert all(a["AlarmActions"] == [topic] for a in found.values())
    assert found[f"{app}-dev-alarm-db-connections"]["Threshold"] == 50
    assert found[f"{app}-dev-alarm-queue-dlq"]["Dimensions"] == [{"Name": "QueueName", "Value": f"{app}-dev-jobs-dlq"}]
    running = found[f"{app}-dev-alarm-api-running"]["Metrics"]
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in running if "MetricStat" in m} == {
        "RunningTaskCount", "DesiredTaskCount"}
    cluster = boto(moto_server.endpoint, "ecs").describe_clusters(clusters=[f"{app}-dev"], include=["SETTINGS"])
    assert {"name": "containerInsights", "value": "enabled"} in cluster["clusters"][0]["settings"]
    (sub,) = boto(moto_server.endpoint, "sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (sub["Protocol"], sub["Endpoint"], sub["SubscriptionArn"]) == ("email", EMAIL, "PendingConfirmation")
    dashboard = boto(moto_server.endpoint, "cloudwatch").get_dashboard(DashboardName=f"{app}-dev")
    assert dashboard["DashboardBody"].count('"type": "metric"') == len(found)

    with proxy.recording() as requests:
        again = deploy(project, proxy.endpoint)
    assert {s["status"] for s in again["steps"]} == {"unchanged"}, again["steps"]
    assert [r.api_operation for r in requests if r.resource_write] == []

    boto(moto_server.endpoint, "cloudwatch").set_alarm_state(
        AlarmName=f"{app}-dev-alarm-redis-memory", StateValue="ALARM", StateReason="memory at 93%")
    status = tscloud(project, proxy.endpoint, "--output", "json", "status")
    assert status.code == 0, status.output
    live = status.json()["live"]
    assert next(iter(live["alarms"])) == f"{app}-dev-alarm-redis-memory"
    assert live["alarms"][f"{app}-dev-alarm-redis-memory"] == "ALARM (memory at 93%)"
    assert len(live["alarms"]) == len(found)
    assert live["alerts_email"] == {f"{EMAIL} (us-east-1)": "pending confirmation: follow the link AWS mailed"}
    text = tscloud(project, proxy.endpoint, "status")
    assert f"{app}-dev-alarm-redis-memory: ALARM (memory at 93%)" in text.stdout

    destroyed = tscloud(project, proxy.endpoint, "--yes", "destroy", "--no-snapshot", timeout=400)
    assert destroyed.code == 0, destroyed.output
    assert alarms(moto_server.endpoint, f"{app}-dev-alarm-") == {}
    assert topics(moto_server.endpoint, f"{app}-dev-alerts") == []
    cw = boto(moto_server.endpoint, "cloudwatch")
    assert [d["DashboardName"] for d in cw.list_dashboards(DashboardNamePrefix=f"{app}-dev")["DashboardEntries"]] == []


def test_ssr_alarms_exist_only_with_alerts(proxy: AwsProxy, moto_server: MotoServer, tmp_path: Path) -> None:
    app = "alssr"
    project = copy_example(tmp_path, "ssr-app", app)
    deploy(project, proxy.endpoint)
    assert alarms(moto_server.endpoint, f"{app}-dev-") == {}
    assert topics(moto_server.endpoint, f"{app}-dev-alerts") == []
    cw = boto(moto_server.endpoint, "cloudwatch")
    assert cw.list_dashboards(DashboardNamePrefix=f"{app}-dev")["DashboardEntries"] == []

    config = project / "tscloud.toml"
    config.write_text(config.read_text() + ALERTS)
    doc = deploy(project, proxy.endpoint)
    assert {s["id"]: s["status"] for s in doc["steps"]}["alarms"] == "created"
    found = alarms(moto_server.endpoint, f"{app}-dev-alarm-")
    assert sorted(found) == sorted(f"{app}-dev-alarm-{n}" for n in (
        "server-errors", "server-throttles", "cdn-5xx", "jobs-errors", "jobs-throttles", "jobs-dlq", "jobs-age"))
    (topic,) = topics(moto_server.endpoint, f"{app}-dev-alerts")
    assert all(a["AlarmActions"] == [topic] for a in found.values())
    assert found[f"{app}-dev-alarm-cdn-5xx"]["Dimensions"] == [
        {"Name": "DistributionId", "Value": doc["outputs"]["distribution_id"]}, {"Name": "Region", "Value": "Global"}]
    assert cw.get_dashboard(DashboardName=f"{app}-dev")["DashboardBody"].count('"type": "metric"') == len(found)

    with proxy.recording() as requests:
        again = deploy(project, proxy.endpoint)
    assert {s["status"] for s in again["steps"]} == {"unchanged"}, again["steps"]
    assert [r.api_operation for r in requests if r.resource_write] == []

    destroyed = tscloud(project, proxy.endpoint, "--yes", "destroy")
    assert destroyed.code == 0, destroyed.output
    assert alarms(moto_server.endpoint, f"{app}-dev-") == {}
    assert topics(moto_server.endpoint, f"{app}-dev-alerts") == []
    assert cw.list_dashboards(DashboardNamePrefix=f"{app}-dev")["DashboardEntries"] == []


def test_a_stage_outside_us_east_1_watches_its_distribution_from_us_east_1(moto_server: MotoServer,
                                                                           tmp_path: Path) -> None:
    app = "al-west"
    project = make_site(tmp_path, app)
    config = project / "tscloud.toml"
    config.write_text(config.read_text().replace('region = "us-east-1"', 'region = "eu-west-1"') + ALERTS)
    deploy(project, moto_server.endpoint)
    assert alarms(moto_server.endpoint, f"{app}-dev-alarm-", "eu-west-1") == {}
    (alarm,) = alarms(moto_server.endpoint, f"{app}-dev-alarm-").values()
    (topic,) = topics(moto_server.endpoint, f"{app}-dev-alerts")
    assert alarm["AlarmName"] == f"{app}-dev-alarm-cdn-5xx" and alarm["AlarmActions"] == [topic]
    assert topics(moto_server.endpoint, f"{app}-dev-alerts", "eu-west-1") == []  # no alarm lives there
    result = tscloud(project, moto_server.endpoint, "--yes", "destroy")
    assert result.code == 0, result.output
    assert topics(moto_server.endpoint, f"{app}-dev-alerts") == []


def test_alerts_need_exactly_one_destination(moto_server: MotoServer, tmp_path: Path) -> None:
    project = make_site(tmp_path, "al-bad")
    config = project / "tscloud.toml"
    config.write_text(config.read_text() + "\n[alerts]\nhttp_5xx_percent = 2\n")
    result = tscloud(project, moto_server.endpoint, "plan")
    assert result.code == 2 and "alerts.email" in result.output, result.output


def test_the_printed_policy_covers_the_web_acl_topic_alarms_and_dashboard(tmp_path: Path) -> None:
    """Under the emulator's enforced IAM, the policy `tscloud iam policy` prints for a static site with [waf] and
    [alerts] is enough, and one action of those taken out is refused by name."""
    project = copy_example(tmp_path, "static-site", "hello-site", '\n[waf]\nblock_countries = ["KP"]\n' + ALERTS)
    prove_enforced(project, "cloudwatch:PutMetricAlarm")
