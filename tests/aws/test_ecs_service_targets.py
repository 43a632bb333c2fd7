"""A service's running tasks in the emulator are there as on AWS: listed by service, each registered in the
service's target group, replaced by a new revision's and deregistered when stopped (moto alone counts them
and starts none; tscloud_py.emulator.fidelity.ecs_tasks). So the rollout's target-group check answers here
as on AWS: a service whose target group has no healthy target is not steady."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tscloud_py.aws.ecs import Ecs, task_ips
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.aws.session import ClientFactory
from tscloud_py.presets.fullstack_app.rollout import rollout_poll


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        ec2: Any = boto3.client("ec2", region_name="us-east-1")
        elb: Any = boto3.client("elbv2", region_name="us-east-1")
        ecs: Any = boto3.client("ecs", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="api", Description="api", VpcId=vpc)["GroupId"]
        tg = elb.create_target_group(Name="shop-dev-api", Protocol="HTTP", Port=80, VpcId=vpc,
                                     TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        ecs.create_cluster(clusterName="shop-dev")
        revisions = [ecs.register_task_definition(
            family="shop-dev-api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[{"name": "api", "image": f"nginx:1.{n}",
                                                 "portMappings": [{"containerPort": 80}]}],
        )["taskDefinition"]["taskDefinitionArn"] for n in (1, 2)]
        ecs.create_service(cluster="shop-dev", serviceName="shop-dev-api", taskDefinition=revisions[0],
                           desiredCount=1, launchType="FARGATE",
                           loadBalancers=[{"targetGroupArn": tg, "containerName": "api", "containerPort": 80}],
                           networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet],
                                                                         "securityGroups": [sg]}})
        ecs.create_service(cluster="shop-dev", serviceName="shop-dev-worker", taskDefinition=revisions[0],
                           desiredCount=1, launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet],
                                                                         "securityGroups": [sg]}})
        factory = ClientFactory(region="us-east-1")
        yield SimpleNamespace(ecs=Ecs(factory), elbv2=Elbv2(factory), client=ecs, elb=elb, tg=tg,
                              revisions=revisions)


def registered(aws: Any) -> dict[str, str]:
    return {h["Target"]["Id"]: h["TargetHealth"]["State"] for h in aws.elbv2.target_health(aws.tg)}


def test_running_tasks_are_registered_in_the_target_group_and_replaced_by_a_new_revision(aws: Any) -> None:
    (first,) = aws.ecs.tasks("shop-dev", "shop-dev-api")  # the worker's task is not the API's
    assert (first["lastStatus"], first["taskDefinitionArn"]) == ("RUNNING", aws.revisions[0])
    assert registered(aws) == {task_ips(first)[0]: "healthy"}
    assert rollout_poll(aws.ecs, aws.elbv2, "shop-dev", "shop-dev-api", aws.revisions[0], aws.tg).done

    aws.client.update_service(cluster="shop-dev", service="shop-dev-api", taskDefinition=aws.revisions[1])
    (second,) = aws.ecs.tasks("shop-dev", "shop-dev-api")
    assert second["taskDefinitionArn"] == aws.revisions[1]
    assert registered(aws) == {task_ips(second)[0]: "healthy"}
    (stopped,) = aws.ecs.tasks("shop-dev", "shop-dev-api", "STOPPED")
    assert stopped["taskArn"] == first["taskArn"]

    aws.client.update_service(cluster="shop-dev", service="shop-dev-api", desiredCount=0)
    assert aws.ecs.tasks("shop-dev", "shop-dev-api") == [] and registered(aws) == {}


def test_a_service_whose_target_group_has_no_healthy_target_is_not_steady(aws: Any) -> None:
    (task,) = aws.ecs.tasks("shop-dev", "shop-dev-api")
    aws.elb.deregister_targets(TargetGroupArn=aws.tg, Targets=[{"Id": task_ips(task)[0], "Port": 80}])
    poll = rollout_poll(aws.ecs, aws.elbv2, "shop-dev", "shop-dev-api", aws.revisions[0], aws.tg)
    assert (poll.done, poll.state) == (False, "0/1 targets healthy")
