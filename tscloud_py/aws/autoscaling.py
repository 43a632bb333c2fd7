"""Application Auto Scaling for ECS services: scalable targets and target-tracking policies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws.session import call, ignoring

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory

NS = "ecs"
DIMENSION = "ecs:service:DesiredCount"


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


class AutoScaling:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("application-autoscaling", region)

    def target(self, resource: str) -> dict[str, Any] | None:
        found = call(self.c.describe_scalable_targets, "application-autoscaling:DescribeScalableTargets",
                     ServiceNamespace=NS, ResourceIds=[resource], ScalableDimension=DIMENSION)["ScalableTargets"]
        return dict(found[0]) if found else None

    def register_target(self, resource: str, min_count: int, max_count: int, tags: dict[str, str]) -> None:
        kwargs: dict[str, Any] = {"ServiceNamespace": NS, "ResourceId": resource, "ScalableDimension": DIMENSION,
                                  "MinCapacity": min_count, "MaxCapacity": max_count}
        if tags:
            kwargs["Tags"] = tags
        call(self.c.register_scalable_target, "application-autoscaling:RegisterScalableTarget", **kwargs)

    def policies(self, resource: str) -> dict[str, dict[str, Any]]:
        found = call(self.c.describe_scaling_policies, "application-autoscaling:DescribeScalingPolicies",
                     ServiceNamespace=NS, ResourceId=resource, ScalableDimension=DIMENSION)["ScalingPolicies"]
        return {str(p["PolicyName"]): dict(p) for p in found}

    def put_target_tracking(self, resource: str, name: str, config: dict[str, Any]) -> None:
        call(self.c.put_scaling_policy, "application-autoscaling:PutScalingPolicy", PolicyName=name,
             ServiceNamespace=NS, ResourceId=resource, ScalableDimension=DIMENSION,
             PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=config)

    def delete_policy(self, resource: str, name: str) -> None:
        with ignoring("ObjectNotFoundException"):
            call(self.c.delete_scaling_policy, "application-autoscaling:DeleteScalingPolicy", PolicyName=name,
                 ServiceNamespace=NS, ResourceId=resource, ScalableDimension=DIMENSION)

    def deregister_target(self, resource: str) -> None:
        with ignoring("ObjectNotFoundException"):
            call(self.c.deregister_scalable_target, "application-autoscaling:DeregisterScalableTarget",
                 ServiceNamespace=NS, ResourceId=resource, ScalableDimension=DIMENSION)
