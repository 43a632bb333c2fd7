"""`tscloud deploy` of examples/ssr-app against a moto server: the shape of what it builds, and that a
second deploy is all unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3

from tests.cli.site_support import all_roles

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "ssr-app"


def client(moto_server: Any, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto_server.endpoint, region_name="us-east-1")


def test_local_deploy_of_the_example(cli: Any, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "app")
    result = cli("--local", "--output", "json", "deploy", cwd=tmp_path / "app")
    assert result.code == 0, result.output
    doc = result.json()
    assert doc["preset"] == "ssr-app"
    assert {s["status"] for s in doc["steps"]} <= {"created", "updated", "unchanged"}
    outputs = doc["outputs"]
    assert outputs["function_name"] == "shop-dev-server" and outputs["streaming"] is True
    assert outputs["function_url"].startswith("https://") and outputs["url"].startswith("https://")
    assert outputs["assets_bucket"].startswith("shop-dev-assets-") and outputs["distribution_id"]


def test_deploy_shape_and_second_deploy_unchanged(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app")
    args = ("--endpoint-url", moto_server.endpoint, "--output", "json", "deploy")
    first = cli(*args, cwd=tmp_path / "app")
    assert first.code == 0, first.output
    outputs = first.json()["outputs"]

    lam = client(moto_server, "lambda")
    url = lam.get_function_url_config(FunctionName="shop-dev-server")
    assert url["InvokeMode"] == "RESPONSE_STREAM" and url["AuthType"] == "AWS_IAM"
    conf = lam.get_function(FunctionName="shop-dev-server")["Configuration"]
    assert conf["Handler"] == "index.handler" and conf["MemorySize"] == 2048 and conf["Timeout"] == 60
    assert conf["Architectures"] == ["arm64"] and conf["Runtime"].startswith("nodejs")

    cf = client(moto_server, "cloudfront")
    dist = cf.get_distribution_config(Id=outputs["distribution_id"])["DistributionConfig"]
    origins = {o["Id"]: o for o in dist["Origins"]["Items"]}
    assert origins["server"]["DomainName"] == outputs["function_url"].removeprefix("https://")
    assert origins["assets"]["DomainName"].startswith(outputs["assets_bucket"])
    default = dist["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "server"
    assert default["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert default["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert default["ResponseHeadersPolicyId"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"  # SecurityHeaders
    assert sorted(default["AllowedMethods"]["Items"]) == sorted(
        ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"])
    behaviors = {b["PathPattern"]: b["TargetOriginId"] for b in dist["CacheBehaviors"]["Items"]}
    # one behavior per top-level entry of .output/public, derived from the build
    assert behaviors == {"/assets/*": "assets", "/favicon.ico": "assets", "/images/*": "assets",
                         "/robots.txt": "assets"}

    s3 = client(moto_server, "s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=outputs["assets_bucket"])["Contents"]}
    assert {"assets/main-5f2c1a9b.css", "assets/main-8d41e0c7.js", "favicon.ico", "robots.txt"} <= keys
    head = s3.head_object(Bucket=outputs["assets_bucket"], Key="assets/main-8d41e0c7.js")
    assert "immutable" in head["CacheControl"]

    policy = json.loads(lam.get_policy(FunctionName="shop-dev-server")["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["tscloud-cloudfront-url"]["Action"] == "lambda:InvokeFunctionUrl"
    assert statements["tscloud-cloudfront-url"]["Principal"] == {"Service": "cloudfront.amazonaws.com"}

    # the queue worker: queue + DLQ redrive, its function, the mapping with partial batch failures
    sqs = client(moto_server, "sqs")
    queue_url = outputs["queues"]["jobs"]
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 5 and redrive["deadLetterTargetArn"].endswith(":shop-dev-jobs-dlq")
    assert attrs["VisibilityTimeout"] == "180"
    (mapping,) = lam.list_event_source_mappings(FunctionName="shop-dev-jobs")["EventSourceMappings"]
    assert mapping["EventSourceArn"] == attrs["QueueArn"] and mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    worker_role = client(moto_server, "iam").get_role_policy(RoleName="shop-dev-use1-jobs", PolicyName="tscloud-server")
    queue_statement = worker_role["PolicyDocument"]["Statement"][1]
    assert queue_statement["Resource"] == [attrs["QueueArn"]] and "sqs:DeleteMessage" in queue_statement["Action"]

    second = cli(*args, cwd=tmp_path / "app")
    assert second.code == 0, second.output
    assert {s["id"]: s["status"] for s in second.json()["steps"] if s["status"] != "unchanged"} == {}

    # a new public entry gets its own behavior on the next deploy; the code upload is skipped;
    # a rebuilt (renamed) hashed asset leaves the previous one in place for one more deploy
    public = tmp_path / "app" / ".output" / "public"
    (public / "fonts").mkdir()
    (public / "fonts" / "inter-3a9f.woff2").write_bytes(b"wOF2")
    (public / "assets" / "main-8d41e0c7.js").rename(public / "assets" / "main-0b1c2d3e.js")
    third = cli(*args, cwd=tmp_path / "app")
    assert third.code == 0, third.output
    changed = {s["id"]: s["status"] for s in third.json()["steps"] if s["status"] != "unchanged"}
    assert changed == {"distribution": "updated", "upload": "updated"}
    dist = cf.get_distribution_config(Id=outputs["distribution_id"])["DistributionConfig"]
    assert "/fonts/*" in {b["PathPattern"] for b in dist["CacheBehaviors"]["Items"]}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=outputs["assets_bucket"])["Contents"]}
    assert {"assets/main-8d41e0c7.js", "assets/main-0b1c2d3e.js"} <= keys
    (public / "robots.txt").write_text("User-agent: *\nDisallow: /admin\n")
    fourth = cli(*args, cwd=tmp_path / "app")
    assert fourth.code == 0, fourth.output
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=outputs["assets_bucket"])["Contents"]}
    assert "assets/main-8d41e0c7.js" not in keys and "assets/main-0b1c2d3e.js" in keys


def test_streaming_contradiction_is_a_config_error(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "app")
    toml = tmp_path / "app" / "tscloud.toml"
    toml.write_text(toml.read_text().replace("streaming = true", "streaming = false"))
    result = cli("--endpoint-url", moto_server.endpoint, "deploy", cwd=tmp_path / "app")
    assert result.code == 2, result.output
    assert "ssr.streaming" in result.stderr and "contradicts the build" in result.stderr
    shutil.rmtree(tmp_path / "app" / ".output")
    result = cli("--endpoint-url", moto_server.endpoint, "deploy", cwd=tmp_path / "app")
    assert result.code == 2 and "ssr.dir" in result.stderr, result.output


def own_app(project: Path, app: str) -> None:
    """The example under an app name of this test's: the worker's moto server is shared with other modules'
    servers in the same process (moto's backends are the process's), so a name of its own keeps what they
    leave or write late out of what this test counts."""
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('app = "shop"', f'app = "{app}"', 1))


def test_api_gateway_origin(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app")
    own_app(tmp_path / "app", "ssrapigw")
    toml = tmp_path / "app" / "tscloud.toml"
    toml.write_text(toml.read_text().replace('origin = "function-url"', 'origin = "api-gateway"'))
    args = ("--endpoint-url", moto_server.endpoint, "--output", "json", "deploy")
    first = cli(*args, cwd=tmp_path / "app")
    assert first.code == 0, first.output
    outputs = first.json()["outputs"]
    assert "function_url" not in outputs and outputs["api_id"]
    assert {s["id"] for s in first.json()["steps"]} >= {"api", "server-permission", "distribution"}
    assert not {"function-url", "server-oac"} & {s["id"] for s in first.json()["steps"]}

    apigw = client(moto_server, "apigateway")
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=outputs["api_id"])["items"]}
    integ = apigw.get_integration(restApiId=outputs["api_id"], resourceId=resources["/{proxy+}"]["id"],
                                  httpMethod="ANY")
    assert integ["type"] == "AWS_PROXY" and integ["uri"].endswith(
        ":function:ssrapigw-dev-server/response-streaming-invocations")
    assert "/2021-11-15/" in integ["uri"]
    dist = client(moto_server, "cloudfront").get_distribution_config(Id=outputs["distribution_id"])
    server = {o["Id"]: o for o in dist["DistributionConfig"]["Origins"]["Items"]}["server"]
    assert server["DomainName"] == f"{outputs['api_id']}.execute-api.us-east-1.amazonaws.com"
    assert server["OriginPath"] == "/live"
    policy = json.loads(client(moto_server, "lambda").get_policy(FunctionName="ssrapigw-dev-server")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}

    second = cli(*args, cwd=tmp_path / "app")
    assert second.code == 0, second.output
    assert [s["id"] for s in second.json()["steps"] if s["status"] != "unchanged"] == []


def test_destroy_removes_everything(cli: Any, moto_server: Any, tmp_path: Path) -> None:
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app")
    own_app(tmp_path / "app", "ssrgone")
    base = ("--endpoint-url", moto_server.endpoint, "--yes")
    deployed = cli(*base, "--output", "json", "deploy", cwd=tmp_path / "app")
    assert deployed.code == 0, deployed.output
    outputs = deployed.json()["outputs"]
    result = cli(*base, "destroy", cwd=tmp_path / "app")
    assert result.code == 0, result.output
    lam = client(moto_server, "lambda")
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith("ssrgone-")] == []
    assert outputs["assets_bucket"] not in [b["Name"] for b in client(moto_server, "s3").list_buckets()["Buckets"]]
    distributions = client(moto_server, "cloudfront").list_distributions()["DistributionList"].get("Items", [])
    assert [d["Id"] for d in distributions if "ssrgone-dev" in d.get("Comment", "")] == []
    assert [r["RoleName"] for r in all_roles(client(moto_server, "iam")) if r["RoleName"].startswith("ssrgone-")] == []
    logs = client(moto_server, "logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/ssrgone-dev")
    assert logs["logGroups"] == []


def test_two_regions_keep_their_own_global_resources_and_old_names_are_adopted(cli: Any, moto_server: Any,
                                                                              tmp_path: Path) -> None:
    """Distribution Comment, OACs and the IAM role carry the region; a deployment from before that keeps its
    (unrenamable) role and its distribution, and redeploys without a resource write."""
    moto_server.reset()
    shutil.copytree(EXAMPLE, tmp_path / "app")
    project = tmp_path / "app"
    base = ("--endpoint-url", moto_server.endpoint, "--output", "json")
    east = cli(*base, "--region", "us-east-1", "deploy", cwd=project)
    west = cli(*base, "--region", "eu-west-1", "deploy", cwd=project)
    assert east.code == 0 and west.code == 0, east.output + west.output
    assert east.json()["outputs"]["distribution_id"] != west.json()["outputs"]["distribution_id"]
    iam = client(moto_server, "iam")
    roles = sorted(r["RoleName"] for r in all_roles(iam))
    assert roles == ["shop-dev-euw1-jobs", "shop-dev-euw1-server", "shop-dev-use1-jobs", "shop-dev-use1-server"]
    oacs = sorted(o["Name"] for o in client(moto_server, "cloudfront").list_origin_access_controls()
                  ["OriginAccessControlList"]["Items"])
    assert oacs == ["shop-dev-euw1-assets", "shop-dev-euw1-server", "shop-dev-use1-assets", "shop-dev-use1-server"]

    # Before the rename: us-east-1's distribution had the old Comment and its server the old role name.
    # Give them back, and check both are kept.
    legacy_role(moto_server, "shop-dev-use1-server", "shop-dev-server")
    cf = client(moto_server, "cloudfront")
    dist_id = east.json()["outputs"]["distribution_id"]
    got = cf.get_distribution_config(Id=dist_id)
    cf.update_distribution(Id=dist_id, IfMatch=got["ETag"],
                           DistributionConfig={**got["DistributionConfig"], "Comment": "tscloud shop-dev distribution"})
    again = cli(*base, "-v", "--region", "us-east-1", "deploy", cwd=project)
    assert again.code == 0, again.output
    assert {s["status"] for s in again.json()["steps"]} == {"unchanged"}
    assert again.json()["outputs"]["distribution_id"] == dist_id
    assert again.json()["requests"]["resource"]["writes"] == 0
    assert client(moto_server, "lambda").get_function(FunctionName="shop-dev-server")["Configuration"][
        "Role"].endswith(":role/shop-dev-server")
    west_again = cli(*base, "--region", "eu-west-1", "deploy", cwd=project)
    assert {s["status"] for s in west_again.json()["steps"]} == {"unchanged"}
    assert "shop-dev-use1-server" not in {r["RoleName"] for r in all_roles(iam)}


def legacy_role(moto_server: Any, name: str, old: str) -> None:
    """Move the us-east-1 server onto a copy of its role under the pre-region name, as an old deploy left it."""
    iam = client(moto_server, "iam")
    role = iam.get_role(RoleName=name)["Role"]
    iam.create_role(RoleName=old, AssumeRolePolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]),
                    Tags=role.get("Tags", []))
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        iam.put_role_policy(RoleName=old, PolicyName=policy, PolicyDocument=json.dumps(doc))
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    lam = client(moto_server, "lambda")
    lam.update_function_configuration(FunctionName="shop-dev-server", Role=iam.get_role(RoleName=old)["Role"]["Arn"])
    iam.delete_role(RoleName=name)
