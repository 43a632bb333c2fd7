"""Lambda functions in a VPC behave in the emulator as on AWS (tscloud_py.emulator.fidelity.lambda_vpc): a
VpcConfig Lambda would refuse is refused and leaves no function, the execution role must allow the ENI
actions, VpcId is the subnets' VPC, removal reports the empty configuration, and the function's Hyperplane
ENIs keep its security groups and subnets from being deleted until they are released."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

REGION = "us-east-1"
# AWSLambdaVPCAccessExecutionRole's and AWSLambdaBasicExecutionRole's statements, as customer managed
# policies: the emulator, like moto by default, does not load AWS's managed policies
LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
VPC_ACCESS_ACTIONS = [*LOGS, "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                      "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def handler_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("index.js", "exports.handler = async () => ({ statusCode: 200, body: 'ok' });\n")
    return out.getvalue()


def role(iam: Any, *managed: str, inline: dict[str, Any] | None = None) -> str:
    name = f"fn-{uuid.uuid4().hex[:8]}"
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    for policy in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    if inline is not None:
        iam.put_role_policy(RoleName=name, PolicyName="eni", PolicyDocument=json.dumps(inline))
    return arn


def managed(iam: Any, name: str, actions: list[str]) -> str:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    arn: str = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    return arn


def network(ec2: Any, cidr: str, subnets: int) -> SimpleNamespace:
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    ids = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24")["Subnet"]["SubnetId"] for i in range(subnets)]
    groups = [ec2.create_security_group(GroupName=f"g{i}-{vpc}", Description="fn", VpcId=vpc)["GroupId"]
              for i in range(2)]
    return SimpleNamespace(vpc=vpc, subnets=ids, groups=groups)


@pytest.fixture
def aws() -> Iterator[SimpleNamespace]:
    with mock_aws():
        ec2: Any = boto3.client("ec2", region_name=REGION)
        iam: Any = boto3.client("iam", region_name=REGION)
        lam: Any = boto3.client("lambda", region_name=REGION)
        vpc_access, basic = managed(iam, "vpc-access", VPC_ACCESS_ACTIONS), managed(iam, "basic", LOGS)
        yield SimpleNamespace(ec2=ec2, iam=iam, lam=lam, net=network(ec2, "10.1", 2), other=network(ec2, "10.2", 1),
                              role=role(iam, vpc_access), vpc_access=vpc_access, basic=basic, zip=handler_zip())


def create(aws: Any, name: str, vpc: dict[str, Any] | None = None, role_arn: str | None = None) -> dict[str, Any]:
    extra = {"VpcConfig": vpc} if vpc is not None else {}
    answer: dict[str, Any] = aws.lam.create_function(
        FunctionName=name, Runtime="nodejs20.x", Handler="index.handler", Role=role_arn or aws.role,
        Code={"ZipFile": aws.zip}, **extra)
    return answer


def lambda_enis(aws: Any) -> list[dict[str, Any]]:
    enis = aws.ec2.describe_network_interfaces()["NetworkInterfaces"]
    return sorted((e for e in enis if e["InterfaceType"] == "lambda"), key=lambda e: e["SubnetId"])


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def vpc_of(aws: Any, subnets: list[str] | None = None, groups: list[str] | None = None) -> dict[str, Any]:
    return {"SubnetIds": aws.net.subnets if subnets is None else subnets,
            "SecurityGroupIds": aws.net.groups[:1] if groups is None else groups}


def test_vpc_id_is_the_subnets_and_one_eni_per_subnet(aws: Any) -> None:
    created = create(aws, "api", vpc_of(aws))
    expected = {**vpc_of(aws), "VpcId": aws.net.vpc, "Ipv6AllowedForDualStack": False}
    assert created["VpcConfig"] == expected
    assert aws.lam.get_function_configuration(FunctionName="api")["VpcConfig"] == expected
    assert aws.lam.get_function(FunctionName="api")["Configuration"]["VpcConfig"] == expected

    enis = lambda_enis(aws)
    assert [e["SubnetId"] for e in enis] == sorted(aws.net.subnets)
    for eni in enis:
        assert eni["Description"].startswith("AWS Lambda VPC ENI-api-")
        uuid.UUID(eni["Description"][len("AWS Lambda VPC ENI-api-"):])
        assert (eni["RequesterManaged"], eni["Status"], eni["VpcId"]) == (True, "in-use", aws.net.vpc)
        assert [g["GroupId"] for g in eni["Groups"]] == aws.net.groups[:1]


def test_security_group_and_subnet_kept_until_the_function_is_deleted(aws: Any) -> None:
    create(aws, "api", vpc_of(aws))
    group, subnet = aws.net.groups[0], aws.net.subnets[0]
    with pytest.raises(ClientError) as err:
        aws.ec2.delete_security_group(GroupId=group)
    assert error_of(err) == ("DependencyViolation", f"resource {group} has a dependent object")
    with pytest.raises(ClientError) as err:
        aws.ec2.delete_subnet(SubnetId=subnet)
    assert error_of(err) == ("DependencyViolation", f"The subnet '{subnet}' has dependencies and cannot be deleted.")
    aws.ec2.delete_security_group(GroupId=aws.net.groups[1])  # one no ENI uses goes as before

    aws.lam.delete_function(FunctionName="api")
    assert lambda_enis(aws) == []
    aws.ec2.delete_security_group(GroupId=group)
    aws.ec2.delete_subnet(SubnetId=subnet)


@pytest.mark.parametrize("case", ["no subnet", "no group", "subnets alone", "groups alone", "group elsewhere",
                                  "two vpcs", "17 subnets", "6 groups"])
def test_a_refused_vpc_config_leaves_no_function(aws: Any, case: str) -> None:
    missing_subnet, missing_group = "subnet-0123456789abcdef0", "sg-0123456789abcdef0"
    config, expected = {
        "no subnet": (vpc_of(aws, [aws.net.subnets[0], missing_subnet]), (
            "InvalidParameterValueException", "Error occurred while DescribeSubnets. EC2 Error Code: "
            f"InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID '{missing_subnet}' does not exist")),
        "no group": (vpc_of(aws, groups=[missing_group]), (
            "InvalidParameterValueException", "Error occurred while DescribeSecurityGroups. EC2 Error Code: "
            f"InvalidGroup.NotFound. EC2 Error Message: The security group '{missing_group}' does not exist")),
        "subnets alone": (vpc_of(aws, groups=[]), (
            "InvalidParameterValueException", "SubnetIds and SecurityIds must coexist or be both empty list.")),
        "groups alone": (vpc_of(aws, subnets=[]), (
            "InvalidParameterValueException", "SubnetIds and SecurityIds must coexist or be both empty list.")),
        "group elsewhere": (vpc_of(aws, groups=[aws.net.groups[0], aws.other.groups[0]]), (
            "InvalidParameterValueException", "Security Groups are required to be in the same VPC")),
        "two vpcs": (vpc_of(aws, subnets=[aws.net.subnets[0], aws.other.subnets[0]]), (
            "InvalidParameterValueException", "Subnets are required to be in the same VPC")),
        "17 subnets": (vpc_of(aws, subnets=[f"subnet-{i:017x}" for i in range(17)]), (
            "ValidationException", "at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must have "
                                   "length less than or equal to 16")),
        "6 groups": (vpc_of(aws, groups=[f"sg-{i:017x}" for i in range(6)]), (
            "ValidationException", "at 'vpcConfig.securityGroupIds' failed to satisfy constraint: Member must "
                                   "have length less than or equal to 5")),
    }[case]
    with pytest.raises(ClientError) as err:
        create(aws, "api", config)
    code, message = error_of(err)
    assert code == expected[0] and (message == expected[1] or expected[1] in message)
    with pytest.raises(ClientError) as gone:
        aws.lam.get_function(FunctionName="api")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert lambda_enis(aws) == []


def test_the_execution_role_must_allow_the_eni_actions(aws: Any) -> None:
    def refused(role_arn: str) -> str:
        with pytest.raises(ClientError) as err:
            create(aws, "api", vpc_of(aws), role_arn)
        code, message = error_of(err)
        assert code == "InvalidParameterValueException"
        with pytest.raises(ClientError):
            aws.lam.get_function(FunctionName="api")
        return message

    def statement(effect: str, actions: list[str], resource: Any) -> dict[str, Any]:
        return {"Effect": effect, "Action": actions, "Resource": resource}

    def policy(*statements: dict[str, Any]) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": list(statements)}

    assert refused(role(aws.iam, aws.basic)) == ("The provided execution role does not have permissions to call "
                                             "CreateNetworkInterface on EC2")
    prefix = f"arn:aws:ec2:{REGION}:123456789012"
    describe = statement("Allow", ["ec2:Describe*"], "*")
    delete = statement("Allow", ["ec2:Delete*"], "*")
    scoped_create = statement("Allow", ["ec2:CreateNetworkInterface"],
                              [f"{prefix}:network-interface/*", f"{prefix}:subnet/*", f"{prefix}:security-group/*"])
    assert refused(role(aws.iam, inline=policy(scoped_create))).endswith("call DescribeNetworkInterfaces on EC2")
    scoped_delete = statement("Allow", ["ec2:DeleteNetworkInterface"], f"{prefix}:network-interface/*")
    assert refused(role(aws.iam, inline=policy(scoped_create, describe, scoped_delete))).endswith(
        "call DeleteNetworkInterface on EC2")
    another_subnet = statement("Allow", ["ec2:CreateNetworkInterface"],
                               [f"{prefix}:network-interface/*", f"{prefix}:subnet/{aws.other.subnets[0]}",
                                f"{prefix}:security-group/*"])
    assert refused(role(aws.iam, inline=policy(another_subnet, describe, delete))).endswith(
        "call CreateNetworkInterface on EC2")
    deny = statement("Deny", ["ec2:Delete*"], "*")  # a Deny that matches wins over the managed policy's Allow
    assert refused(role(aws.iam, aws.vpc_access, inline=policy(deny))).endswith("call DeleteNetworkInterface on EC2")
    conditional = {**statement("Allow", ["ec2:*"], "*"), "Condition": {"StringEquals": {"ec2:Vpc": "x"}}}
    assert refused(role(aws.iam, inline=policy(conditional))).endswith("call CreateNetworkInterface on EC2")

    # granted by an inline policy with wildcards, the create's resources scoped by ARN
    allowed = role(aws.iam, inline=policy(scoped_create, describe, delete))
    assert create(aws, "api", vpc_of(aws), allowed)["VpcConfig"]["VpcId"] == aws.net.vpc

    # a VPC function's role is checked again when it changes
    with pytest.raises(ClientError) as err:
        aws.lam.update_function_configuration(FunctionName="api", Role=role(aws.iam, aws.basic))
    assert error_of(err)[1].endswith("call CreateNetworkInterface on EC2")
    assert aws.lam.get_function_configuration(FunctionName="api")["Role"] == allowed


def test_updates_move_the_enis_and_removal_reports_the_empty_config(aws: Any) -> None:
    assert "VpcId" not in (create(aws, "api").get("VpcConfig") or {})
    assert lambda_enis(aws) == []

    moved = aws.lam.update_function_configuration(FunctionName="api", VpcConfig=vpc_of(aws))["VpcConfig"]
    assert moved["VpcId"] == aws.net.vpc and len(lambda_enis(aws)) == 2
    first = {e["NetworkInterfaceId"] for e in lambda_enis(aws)}

    with pytest.raises(ClientError) as err:  # refused: the function keeps its config and its ENIs
        aws.lam.update_function_configuration(FunctionName="api", VpcConfig=vpc_of(aws, groups=["sg-0abc"]))
    assert "InvalidGroup.NotFound" in error_of(err)[1]
    assert aws.lam.get_function_configuration(FunctionName="api")["VpcConfig"] == moved
    assert {e["NetworkInterfaceId"] for e in lambda_enis(aws)} == first

    # re-pointed to another VPC: new ENIs there, the old ones released
    other = {"SubnetIds": aws.other.subnets, "SecurityGroupIds": aws.other.groups}
    assert aws.lam.update_function_configuration(FunctionName="api", VpcConfig=other)["VpcConfig"]["VpcId"] == \
        aws.other.vpc
    (eni,) = lambda_enis(aws)
    assert eni["NetworkInterfaceId"] not in first and eni["SubnetId"] == aws.other.subnets[0]
    assert sorted(g["GroupId"] for g in eni["Groups"]) == sorted(aws.other.groups)
    aws.ec2.delete_security_group(GroupId=aws.net.groups[0])  # released with its ENIs

    removed = aws.lam.update_function_configuration(FunctionName="api",
                                                    VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
    assert removed["VpcConfig"] == {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": ""}
    assert aws.lam.get_function(FunctionName="api")["Configuration"]["VpcConfig"] == removed["VpcConfig"]
    assert lambda_enis(aws) == []
    aws.ec2.delete_security_group(GroupId=aws.other.groups[0])


def test_functions_with_the_same_subnet_and_groups_share_their_enis(aws: Any) -> None:
    create(aws, "api", vpc_of(aws))
    create(aws, "worker", vpc_of(aws))
    enis = lambda_enis(aws)
    assert len(enis) == 2 and all("ENI-api-" in e["Description"] for e in enis)
    create(aws, "mailer", vpc_of(aws, groups=aws.net.groups))  # another group set: ENIs of its own
    assert len(lambda_enis(aws)) == 4

    aws.lam.delete_function(FunctionName="api")
    kept = {e["NetworkInterfaceId"] for e in lambda_enis(aws)}
    assert len(kept) == 4 and {e["NetworkInterfaceId"] for e in enis} <= kept  # the worker still uses them
    aws.lam.delete_function(FunctionName="worker")
    aws.lam.delete_function(FunctionName="mailer")
    assert lambda_enis(aws) == []


def test_a_published_version_keeps_its_enis(aws: Any) -> None:
    create(aws, "api", vpc_of(aws))
    version = aws.lam.publish_version(FunctionName="api")["Version"]
    aws.lam.update_function_configuration(FunctionName="api", VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
    assert len(lambda_enis(aws)) == 2  # the version still runs in the VPC
    aws.lam.delete_function(FunctionName="api", Qualifier=version)
    assert lambda_enis(aws) == []


def test_the_enis_and_vpc_id_survive_a_snapshot(aws: Any, tmp_path: Path) -> None:
    from moto.moto_api._internal.models import moto_api_backend

    from tscloud_py.emulator import snapshot

    create(aws, "api", vpc_of(aws))
    enis = lambda_enis(aws)
    saved = tmp_path / "state.snapshot"
    saved.write_bytes(snapshot.dump())
    moto_api_backend.reset()  # a fresh emulator: nothing until the snapshot is loaded
    assert lambda_enis(aws) == []
    assert snapshot.load(saved) > 0
    assert aws.lam.get_function_configuration(FunctionName="api")["VpcConfig"]["VpcId"] == aws.net.vpc
    assert lambda_enis(aws) == enis
    with pytest.raises(ClientError) as err:
        aws.ec2.delete_security_group(GroupId=aws.net.groups[0])
    assert error_of(err)[0] == "DependencyViolation"
    aws.lam.delete_function(FunctionName="api")
    assert lambda_enis(aws) == []
    aws.ec2.delete_security_group(GroupId=aws.net.groups[0])
