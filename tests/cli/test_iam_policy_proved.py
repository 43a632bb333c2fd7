"""`tscloud iam policy` proved, not hoped (issue 27, "Done means" 1): each example's deploy, a no-op redeploy,
a change and destroy run through the counting proxy, and every request they send is allowed by the policy
`tscloud iam policy --for all` printed beforehand (the action, and for S3 the bucket or object ARN); the
policy holds no action none of those runs needed, but for those listed here with the path that needs them.
The destroy run's requests are also all allowed by `--for destroy`'s policy, and the plan's by `--for plan`'s.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cli.iam_support import refused, unused
from tests.cli.site_support import boto, tscloud
from tests.conftest import REPO, run_cli
from tests.docker_support import image_example
from tests.fakes.aws_proxy import AwsProxy, Recorded
from tests.fakes.strict_cloudfront import StrictCloudFrontProxy
from tscloud_py.aws.session import ClientFactory
from tscloud_py.aws.state_bucket import S3StateStore, default_bucket_name
from tscloud_py.operations.context import LOCAL_CREDENTIALS

# What a policy allows that these runs did not need, and the path that needs it.
FIRST_USE = "made by AWS on a service's first use in an account (the emulator's accounts have them)"
NOT_TAKEN = {
    # every preset
    "s3:CreateBucket": "the state bucket's first run in an account and region (made before the runs here)",
    "s3:PutBucketVersioning": "the state bucket's first run", "s3:PutLifecycleConfiguration": "the state bucket's first run",
    "s3:DeleteObjectVersion": "emptying a bucket that holds earlier versions (a site bucket keeps none)",
    "s3:DeleteObject": "`tscloud state unlock` (a run gives its lock back by a write; a preset with no bucket of "
                       "its own deletes no object)",
    "s3:AbortMultipartUpload": "a run after a killed upload left parts behind",
    "s3:ListBucketMultipartUploads": "a run after a killed upload",
    "s3:GetBucketPolicy": "a bucket policy changed outside tscloud",
    "s3:DeleteBucketPolicy": "destroy of a bucket kept on purpose (retain = true)",
    "cloudfront:DeleteOriginAccessControl": "destroy of an OAC a pre-region deployment made",
    "cloudfront:ListInvalidations": "a re-run after the invalidation's answer was lost",
    "cloudfront:GetInvalidation": "waiting for an invalidation (deploy --wait-invalidation)",
    "secretsmanager:PutSecretValue": "`tscloud secret set` on an existing secret",
    "secretsmanager:CreateSecret": "`tscloud secret set` on a new secret",
    "secretsmanager:TagResource": "`tscloud secret set` on a new secret",
    "secretsmanager:DeleteSecret": "`tscloud secret remove`", "secretsmanager:RestoreSecret": "`tscloud secret set` on a removed secret",
    "secretsmanager:UpdateSecret": "`tscloud secret set --kms-key`", "secretsmanager:GetSecretValue": "`tscloud secret get`",
    "secretsmanager:ListSecrets": "`tscloud secret list`", "secretsmanager:DescribeSecret": "`tscloud secret list`",
    "ecs:DescribeServices": "`tscloud secret set --roll`", "ecs:UpdateService": "`tscloud secret set --roll`",
    "ecs:DescribeTasks": "`tscloud secret set --roll`", "ecs:ListTasks": "`tscloud secret set --roll`",
    "ecs:ListClusters": "`tscloud secret set --roll`", "ecs:ListServices": "`tscloud secret set --roll`",
    "ecs:DescribeTaskDefinition": "`tscloud secret set --roll`",
    "elasticloadbalancing:DescribeTargetHealth": "`tscloud secret set --roll`",
    "lambda:GetFunction": "`tscloud secret set --roll` of a secret a Lambda function reads",
    "lambda:UpdateFunctionConfiguration": "`tscloud secret set --roll` of a secret a Lambda function reads",
    "iam:PassRole": "`tscloud secret set --roll` (UpdateFunctionConfiguration's entry; --roll names no role)",
    "ssm:DescribeParameters": "`tscloud secret set --roll` of an SSM parameter a Lambda function reads",
    "s3:PutBucketOwnershipControls": "a bucket whose ownership is not BucketOwnerEnforced (made by hand or by an "
                                     "older tscloud)",
    # The analysis goes by method name: the steps' modules call Names.tags, and CloudFront.tags is named alike.
    "cloudfront:ListTagsForResource": "CloudFront.tags, named like the Names.tags the steps call",
}


def copy_example(name: str, root: Path, app: str) -> Path:
    project = root / name
    shutil.copytree(REPO / "examples" / name, project, ignore=shutil.ignore_patterns(".tscloud"))
    config = project / "tscloud.toml"
    text = config.read_text()
    first = next(line for line in text.splitlines() if line.startswith("app = "))
    config.write_text(text.replace(first, f'app = "{app}"', 1))
    return project


def policy(project: Path, endpoint: str, purpose: str) -> dict[str, Any]:
    printed = tscloud(project, endpoint, "--output", "json", "iam", "policy", "--for", purpose)
    assert printed.code == 0, printed.output
    doc: dict[str, Any] = printed.json()["policy"]
    return doc


def config_change(old: str, new: str) -> Callable[[Path], None]:
    """The change a test makes between deploys: ``old`` replaced with ``new`` in the project's tscloud.toml."""
    def change(project: Path) -> None:
        config = project / "tscloud.toml"
        text = config.read_text()
        assert old in text, old
        config.write_text(text.replace(old, new, 1))
    return change


def run(proxy: AwsProxy, project: Path, *args: str) -> list[Recorded]:
    with proxy.recording() as sent:
        result = tscloud(project, proxy.endpoint, *args, timeout=900)
        assert result.code == 0, result.output[-3000:]
    return sent


def prove(proxy: AwsProxy, project: Path, change: Any, own: dict[str, str]) -> None:
    """``own``: the example's own actions not sent, each with the one path that sends it (held to be unsent)."""
    not_taken = {**NOT_TAKEN, **own}
    # the state bucket is there before (an account's first run makes it), whichever test ran first
    factory = ClientFactory(endpoint_url=proxy.endpoint, credentials=LOCAL_CREDENTIALS, region="us-east-1")
    S3StateStore(factory, default_bucket_name("123456789012", "us-east-1"), owned=True).ensure()
    everything = policy(project, proxy.endpoint, "all")
    with_destroy = policy(project, proxy.endpoint, "destroy")
    reads = policy(project, proxy.endpoint, "plan")
    sent = run(proxy, project, "--yes", "deploy")
    sent += run(proxy, project, "--yes", "deploy")
    change(project)
    planned = run(proxy, project, "plan")
    sent += planned + run(proxy, project, "--yes", "deploy")
    destroyed = run(proxy, project, "--yes", "destroy")
    sent += destroyed
    assert refused(everything, sent) == []
    assert refused(with_destroy, destroyed) == []
    assert refused(reads, planned) == []
    idle = unused(everything, sent)
    extra = sorted(idle - set(not_taken))
    assert extra == [], "\n".join(extra)
    granted = {a for stmt in everything["Statement"] for a in stmt["Action"]}
    wrong = sorted(set(own) & granted - idle)  # listed as not sent, yet sent: the reason is wrong
    assert wrong == [], "\n".join(wrong)


def test_static_site_policy_allows_all_it_sends_and_nothing_more(proxy: AwsProxy, tmp_path: Path) -> None:
    project = copy_example("static-site", tmp_path, "iamsite")

    def change(project: Path) -> None:
        (project / "dist" / "index.html").write_text("<!doctype html><title>changed</title>")

    prove(proxy, project, change, {})


# fullstack-app: what its deploy, an [api.environment] change and destroy do not send, by the path that does.
NEW_VPC = "[network] vpc = \"new\" (the example runs in the default VPC)"
NAT = "[api] egress = \"nat\" (the example reaches AWS through VPC endpoints)"
IMAGE_BUILD = "[api] build (an image built from source and pushed to ECR; the example runs a prebuilt image)"
AURORA = "[database] engine = \"aurora-postgresql\" (Aurora Serverless v2; the example runs one RDS instance)"
NAMED_ALIKE = "its client's tags(), named like the Names.tags the steps call"
# every preset that makes IAM roles
ROLES_NOT_TAKEN = {
    "iam:DetachRolePolicy": "a role given a managed policy outside tscloud",
    "iam:UpdateAssumeRolePolicy": "a role whose trust was changed outside tscloud",
}
FULLSTACK_NOT_TAKEN = {
    "cloudfront:CreateInvalidation": "a change to the [site] files (the change here is to the API)",
    "cloudfront:UpdateVpcOrigin": "a VPC origin whose load balancer or settings changed",
    **dict.fromkeys(("ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:CreateInternetGateway",
                     "ec2:AttachInternetGateway", "ec2:DescribeInternetGateways", "ec2:DetachInternetGateway",
                     "ec2:DeleteInternetGateway", "ec2:DeleteVpc"), NEW_VPC),
    **dict.fromkeys(("ec2:AllocateAddress", "ec2:CreateNatGateway", "ec2:CreateRoute", "ec2:DeleteNatGateway",
                     "ec2:ReleaseAddress"), NAT),
    "ec2:ModifyVpcEndpoint": "a VPC endpoint whose subnets or security groups changed",
    **dict.fromkeys(("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
                     "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:DescribeImages", "ecr:DescribeRepositories",
                     "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer", "ecr:GetLifecyclePolicy",
                     "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:PutImageScanningConfiguration",
                     "ecr:PutLifecyclePolicy", "ecr:TagResource", "ecr:UploadLayerPart"), IMAGE_BUILD),
    "ecs:UpdateClusterSettings": "adding [alerts] or a [queue] worker service (Container Insights turned on)",
    "elasticache:ModifyReplicationGroup": "a change to [cache]",
    "rds:ModifyDBInstance": "a change to [database]", "rds:ModifyDBSubnetGroup": "a change to [database]",
    **dict.fromkeys(("rds:CreateDBCluster", "rds:CreateDBClusterParameterGroup", "rds:CreateDBClusterSnapshot",
                     "rds:DeleteDBCluster", "rds:DeleteDBClusterParameterGroup", "rds:DescribeDBClusterParameters",
                     "rds:DescribeDBClusters", "rds:ModifyDBCluster", "rds:ModifyDBClusterParameterGroup"), AURORA),
    **dict.fromkeys(("elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule",
                     "elasticloadbalancing:ModifyRule", "elasticloadbalancing:ModifyListener",
                     "elasticloadbalancing:DeleteListener"),
                    "an [api] domain (the HTTPS listener and its rules) or a listener changed outside tscloud"),
    **dict.fromkeys(("elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:SetSecurityGroups",
                     "elasticloadbalancing:SetSubnets"), "a change to [api] health_check, its groups or subnets"),
    **ROLES_NOT_TAKEN,
    "scheduler:UpdateSchedule": "a change to [[schedules]]",
    "sqs:SetQueueAttributes": "a change to [queue]",
    "elasticache:ListTagsForResource": NAMED_ALIKE, "logs:ListTagsForResource": NAMED_ALIKE,
    "elasticloadbalancing:DescribeTags": NAMED_ALIKE,
}


def test_fullstack_app_policy_allows_all_it_sends_and_nothing_more(proxy: AwsProxy, tmp_path: Path) -> None:
    project = copy_example("fullstack-app", tmp_path, "iamfs")

    prove(proxy, project, config_change('LOG_LEVEL = "info"', 'LOG_LEVEL = "debug"'), FULLSTACK_NOT_TAKEN)


API_DOMAIN_NOT_TAKEN = {
    "apigateway:PATCH": "a domain whose endpoint or security policy changed (UpdateDomainName)",
    "route53:GetHostedZone": "[dns] zone_id set (the zone read by its id, not found by name)",
    "s3:ListBucket": "`tscloud state list` (the state bucket's journals, by key)",
    **dict.fromkeys(("s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging",
                     "s3:PutEncryptionConfiguration"), "the state bucket's first run (api-domain makes no bucket)"),
}


def test_api_domain_policy_allows_all_it_sends_and_nothing_more(proxy: AwsProxy, tmp_path: Path) -> None:
    """The local variant (the zone in Route 53), with the zone and REST API its README makes beforehand."""
    import shutil as files

    project = tmp_path / "api-domain"
    files.copytree(REPO / "examples" / "api-domain", project)
    (project / "tscloud.toml").write_text((project / "tscloud.local.toml").read_text())
    route53, apigw = boto(proxy.endpoint, "route53"), boto(proxy.endpoint, "apigateway")
    if not any(z["Name"] == "example.com." for z in route53.list_hosted_zones()["HostedZones"]):
        route53.create_hosted_zone(Name="example.com", CallerReference="iam-api-domain")
    if not any(api["id"] == "a1b2c3d4e5" for api in apigw.get_rest_apis()["items"]):
        apigw.create_rest_api(name="shop", tags={"_custom_id_": "a1b2c3d4e5"})
        root = apigw.get_resources(restApiId="a1b2c3d4e5")["items"][0]["id"]
        apigw.put_method(restApiId="a1b2c3d4e5", resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId="a1b2c3d4e5", resourceId=root, httpMethod="GET", type="MOCK")
        apigw.create_deployment(restApiId="a1b2c3d4e5", stageName="prod")

    prove(proxy, project, config_change('stage = "prod"', 'stage = "prod"\nbase_path = "v1"'), API_DOMAIN_NOT_TAKEN)


# ssr-app: what its deploy, an [ssr.environment] change and destroy do not send, by the path that does.
SSR_NOT_TAKEN = {
    **ROLES_NOT_TAKEN,
    "cloudfront:CreateInvalidation": "a change to the files under .output/public (the change here is to the server)",
    "cloudfront:UpdateFunction": "the viewer Host function's code changed (by a tscloud release)",
    "lambda:UpdateFunctionCode": "a change to the server's build or a worker's code",
    "lambda:UpdateFunctionUrlConfig": "a Function URL whose auth type or invoke mode changed ([ssr] streaming)",
    "lambda:UpdateEventSourceMapping": "a change to a worker's batch_size or batching_window",
    "sqs:SetQueueAttributes": "a change to a worker's queue (max_receive_count, its visibility timeout)",
    "logs:ListTagsForResource": NAMED_ALIKE, "sqs:ListQueueTags": NAMED_ALIKE,
}


def test_ssr_app_policy_allows_all_it_sends_and_nothing_more(proxy: AwsProxy, tmp_path: Path) -> None:
    """The example's committed Nitro build and its queue worker; the change is to the server's environment."""
    project = copy_example("ssr-app", tmp_path, "iamssr")

    prove(proxy, project, config_change('"--enable-source-maps"', '"--enable-source-maps --no-warnings"'), SSR_NOT_TAKEN)


# fullstack-build: fullstack-app with its image built by the real engine and pushed to the emulator's registry.
# The pushes' own actions (ecr:InitiateLayerUpload, ecr:PutImage, ...) go to the registry, never through the
# proxy; the catalogue grants them with ecr:GetAuthorizationToken, whose token they are sent with.
FULLSTACK_BUILD_NOT_TAKEN = {
    **{action: why for action, why in FULLSTACK_NOT_TAKEN.items() if why != IMAGE_BUILD},
    "ecr:PutImageScanningConfiguration": "a repository whose scan on push was turned off outside tscloud",
    "secretsmanager:GetRandomPassword": "a [cache] (its AUTH token) or origin = \"public\" (the origin-verify "
                                        "header's value); the example has neither",
}


def test_fullstack_build_policy_allows_all_it_sends_and_nothing_more(tmp_path: Path) -> None:
    """Through the counting proxy in front of the emulator, whose registry the image is pushed to; the change
    is to the image (a file of the API's build context), so the second push is a real one."""
    project, _docker = image_example(tmp_path)
    started = run_cli("--local", "plan", cwd=project, timeout=300)  # the first --local command starts it
    assert started.code == 0, started.output[-3000:]
    endpoint = run_cli("--output", "json", "local", "status", cwd=project).json()["endpoint"]

    def change(project: Path) -> None:
        page = project / "api" / "www" / "index.html"
        page.write_text(page.read_text() + "\n<!-- changed -->\n")

    strict = StrictCloudFrontProxy(endpoint)
    strict.start()
    try:
        with AwsProxy(strict.endpoint) as proxy:
            prove(proxy, project, change, FULLSTACK_BUILD_NOT_TAKEN)
    finally:
        strict.stop()
