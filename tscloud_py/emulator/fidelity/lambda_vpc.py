"""Lambda functions attached to a VPC as AWS has them; moto stores a VpcConfig and checks none of it.

- CreateFunction and UpdateFunctionConfiguration check a VpcConfig as Lambda does: at most 16 subnets and
  5 security groups, subnets and groups given together or not at all, each one existing in the region's
  EC2, all in one VPC, and an execution role allowed the ENI actions;
- the function reports its subnets' VPC (moto answers "vpc-123abc" for any) and, once its VpcConfig is
  removed, the empty configuration AWS reports;
- Lambda's Hyperplane ENIs are in EC2, and a security group or subnet they use cannot be deleted; they
  are released once no function uses them (deleted, or its VpcConfig changed or removed). AWS releases
  them asynchronously, within minutes, the group and subnet staying in use meanwhile; here at once.

The messages are AWS's as users quote them:

- "SubnetIds and SecurityIds must coexist or be both empty list." (aws/aws-sdk-js#1293, the response body);
- "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. EC2 Error Message:
  The security group 'sg-…' does not exist" (motdotla/node-lambda#162); the subnet's follows the same
  shape with EC2's own InvalidSubnetID.NotFound message ("The subnet ID '…' does not exist");
- "Security Groups are required to be in the same VPC" (smoketurner/serverless-vpc-plugin#765, relayed by
  CloudFormation); for subnets of two VPCs no quote was found, so that wording is ours, by analogy;
- "The provided execution role does not have permissions to call CreateNetworkInterface on EC2"
  (justinram11/serverless-aws-batch#16, daniel-cottone/serverless-es-logs#145), and the same sentence
  naming DescribeNetworkInterfaces or DeleteNetworkInterface, as users' notes found by code search quote it;
- the 16 and 5 limits are the botocore model's, refused as a ValidationException in AWS's shape;
- EC2's DependencyViolation: "resource sg-… has a dependent object" (hashicorp/terraform-provider-aws#16165),
  "The subnet 'subnet-…' has dependencies and cannot be deleted." (aws/aws-cdk#14456).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

MAX_SUBNETS, MAX_GROUPS = 16, 5
# ENIs are placed after the function changes; one lock keeps two concurrent requests from placing twice
_placing = threading.RLock()


def apply() -> None:
    from moto.awslambda.models import LambdaBackend, LambdaFunction

    _checked_on_create(LambdaBackend)
    _checked_on_update(LambdaBackend)
    _released_on_delete(LambdaBackend)
    LambdaFunction.vpc_config = property(_reported_vpc_config)  # type: ignore[assignment,method-assign]
    _enis_keep_groups_and_subnets()


def _checked_on_create(backend_class: Any) -> None:
    """CreateFunction refuses a VpcConfig Lambda would refuse, before the function exists, and places the
    function's ENIs once it does."""
    create = backend_class.create_function

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        if spec.get("VpcConfig") is not None:
            spec = {**spec, "VpcConfig": _checked(self, spec["VpcConfig"] or {}, str(spec.get("Role", "")))}
        with _placing:
            try:
                return create(self, spec)
            finally:  # as stored, even when moto refuses after storing the function (a failed publish)
                _place_enis(self)

    backend_class.create_function = create_function


def _checked_on_update(backend_class: Any) -> None:
    """UpdateFunctionConfiguration checks a new VpcConfig, or the new role of a function in a VPC, and the
    function's ENIs follow its new subnets and groups."""
    update = backend_class.update_function_configuration

    def update_function_configuration(self: Any, function_name: str, qualifier: str | None,
                                      body: dict[str, Any]) -> Any:
        function = self.get_function(function_name, qualifier)
        role = str(body.get("Role") or function.role)
        if "VpcConfig" in body:
            body = {**body, "VpcConfig": _checked(self, body["VpcConfig"] or {}, role)}
        elif "Role" in body and (function._vpc_config or {}).get("SubnetIds"):
            config = function._vpc_config
            _check_role(self, role, config["SubnetIds"], config.get("SecurityGroupIds") or [])
        with _placing:
            try:
                return update(self, function_name, qualifier, body)
            finally:  # moto applies an update key by key: what it stored before failing is placed too
                _place_enis(self)

    backend_class.update_function_configuration = update_function_configuration


def _released_on_delete(backend_class: Any) -> None:
    """Lambda releases the ENIs of a deleted function (or version) that no other function uses."""
    delete = backend_class.delete_function

    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        with _placing:
            try:
                delete(self, function_name, qualifier)
            finally:
                _place_enis(self)

    backend_class.delete_function = delete_function


def _reported_vpc_config(function: Any) -> dict[str, Any] | None:
    """The VpcConfig as checked and stored, VpcId included; a function never given one reports none."""
    if not function._vpc_config:
        return None
    config = dict(function._vpc_config)
    if "VpcId" not in config:  # stored before this fix applied (a snapshot): the subnets tell
        subnets = config.get("SubnetIds") or []
        subnet = _subnet(_ec2(function.account_id, function.region), subnets[0]) if subnets else None
        config["VpcId"] = subnet.vpc_id if subnet is not None else ""
    return config


def _checked(backend: Any, given: dict[str, Any], role: str) -> dict[str, Any]:
    """The VpcConfig to store, VpcId included, or Lambda's refusal."""
    from moto.awslambda.exceptions import InvalidParameterValueException

    subnets = [str(s) for s in given.get("SubnetIds") or []]
    groups = [str(g) for g in given.get("SecurityGroupIds") or []]
    _check_lengths(subnets, groups)
    if bool(subnets) != bool(groups):
        raise InvalidParameterValueException("SubnetIds and SecurityIds must coexist or be both empty list.")
    if not subnets:  # removed: AWS reports it so, where a function never in a VPC reports none
        return {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": ""}
    vpc = _one_network(_ec2(backend.account_id, backend.region_name), subnets, groups)
    _check_role(backend, role, subnets, groups)
    return {"SubnetIds": subnets, "SecurityGroupIds": groups,
            "Ipv6AllowedForDualStack": bool(given.get("Ipv6AllowedForDualStack", False)), "VpcId": vpc}


def _check_lengths(subnets: list[str], groups: list[str]) -> None:
    from moto.awslambda.exceptions import ValidationException

    for ids, limit, where in ((subnets, MAX_SUBNETS, "vpcConfig.subnetIds"),
                              (groups, MAX_GROUPS, "vpcConfig.securityGroupIds")):
        if len(ids) > limit:
            raise ValidationException(f"[{', '.join(ids)}]", where,
                                      f"Member must have length less than or equal to {limit}")


def _one_network(ec2: Any, subnets: list[str], groups: list[str]) -> str:
    """The VPC every subnet and group is in; refused when one does not exist or they span two VPCs."""
    from moto.awslambda.exceptions import InvalidParameterValueException

    vpcs = []
    for subnet_id in subnets:
        subnet = _subnet(ec2, subnet_id)
        if subnet is None:
            raise InvalidParameterValueException(
                "Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
                f"EC2 Error Message: The subnet ID '{subnet_id}' does not exist")
        vpcs.append(subnet.vpc_id)
    for group_id in groups:
        if ec2.get_security_group_from_id(group_id) is None:
            raise InvalidParameterValueException(
                "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
                f"EC2 Error Message: The security group '{group_id}' does not exist")
    if len(set(vpcs)) > 1:
        raise InvalidParameterValueException("Subnets are required to be in the same VPC")
    if any(ec2.get_security_group_from_id(g).vpc_id != vpcs[0] for g in groups):
        raise InvalidParameterValueException("Security Groups are required to be in the same VPC")
    return str(vpcs[0])


def _check_role(backend: Any, role: str, subnets: list[str], groups: list[str]) -> None:
    """The execution role must allow the ENI actions: Lambda checks it before it makes any ENI.

    CreateNetworkInterface is evaluated on the ENI, subnets and groups it would name; the other two on
    "*", the only resource their pre-flight check names, as reported by users whose ARN-scoped
    DeleteNetworkInterface was refused. A statement with a Condition does not apply: the check supplies
    no context to meet it (reported likewise). A role IAM does not know is left to moto's own refusal."""
    from moto.awslambda.exceptions import InvalidParameterValueException

    from tscloud_py.emulator.enforce_iam import allows

    policies = _role_policies(backend, role)
    if policies is None:
        return
    prefix = f"arn:{_partition(backend)}:ec2:{backend.region_name}:{backend.account_id}"
    needs = {"ec2:CreateNetworkInterface": [f"{prefix}:network-interface/*",
                                            *(f"{prefix}:subnet/{s}" for s in subnets),
                                            *(f"{prefix}:security-group/{g}" for g in groups)],
             "ec2:DescribeNetworkInterfaces": ["*"], "ec2:DeleteNetworkInterface": ["*"]}
    for action, resources in needs.items():
        if not all(allows(policies, action, resource) for resource in resources):
            raise InvalidParameterValueException(
                f"The provided execution role does not have permissions to call {action[4:]} on EC2")


def _role_policies(backend: Any, role: str) -> list[dict[str, Any]] | None:
    """The documents of the role's inline and attached managed policies; None when IAM has no such role."""
    from moto.iam.access_control import IAMPolicy
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    try:
        found = iam_backends[backend.account_id][_partition(backend)].get_role_by_arn(role)
    except NotFoundException:
        return None
    documents = [*found.policies.values(), *found.managed_policies.values()]
    return [dict(IAMPolicy(document)._policy_json) for document in documents]


def _place_enis(backend: Any) -> None:
    """One Hyperplane ENI per subnet and security-group set that some function or published version of the
    region uses, shared by every function using that pair, as Lambda's are ("Hyperplane ENIs are tied to a
    security group:subnet combination", AWS Compute Blog, "Announcing improved VPC networking for AWS Lambda
    functions"), described as Lambda describes them ("AWS Lambda VPC ENI-<function>-<uuid>",
    binxio/cfn-postgresql-user-provider#9); an ENI no function uses any more is released. Derived from the
    functions' stored VpcConfigs each time, so a snapshot needs nothing more than moto's own objects."""
    ec2 = _ec2(backend.account_id, backend.region_name)
    wanted: dict[tuple[str, frozenset[str]], str] = {}  # (subnet, groups) -> the function that asks first
    for function in _functions(backend):
        config = function._vpc_config or {}
        groups = frozenset(config.get("SecurityGroupIds") or [])
        for subnet in config.get("SubnetIds") or []:
            wanted.setdefault((subnet, groups), function.function_name)
    for eni in _lambda_enis(ec2):
        key = (eni.subnet.id, frozenset(g.id for g in eni._group_set))
        if wanted.pop(key, None) is None:  # unused, or a second ENI for a pair already served
            ec2.delete_network_interface(eni.id)
    for (subnet, groups), name in wanted.items():
        eni = ec2.create_network_interface(ec2.get_subnet(subnet), None, group_ids=sorted(groups),
                                           description=f"AWS Lambda VPC ENI-{name}-{uuid.uuid4()}")
        eni.interface_type, eni.requester_managed, eni.status = "lambda", True, "in-use"


def _functions(backend: Any) -> Iterator[Any]:
    """Every $LATEST and published version of the region's functions: a version keeps its own VpcConfig."""
    for group in list(backend._lambdas._functions.values()):
        if group["latest"] is not None:
            yield group["latest"]
        yield from group["versions"]


def _enis_keep_groups_and_subnets() -> None:
    """EC2 refuses to delete a security group or subnet an ENI uses (DependencyViolation); moto deletes
    them. Only Lambda's ENIs are counted: moto leaves other services' ENIs behind (a deleted NAT gateway's),
    which AWS would have released, and counting those would refuse deletes that AWS allows."""
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models.security_groups import SecurityGroupBackend
    from moto.ec2.models.subnets import SubnetBackend

    delete_group = SecurityGroupBackend._delete_security_group
    delete_subnet = SubnetBackend.delete_subnet

    def _delete_security_group(self: Any, vpc_id: str | None, group_id: str) -> None:
        if any(group_id in {g.id for g in eni._group_set} for eni in _lambda_enis(self)):
            raise DependencyViolationError(f"resource {group_id} has a dependent object")
        delete_group(self, vpc_id, group_id)

    def _delete_subnet(self: Any, subnet_id: str) -> Any:
        if any(eni.subnet.id == subnet_id for eni in _lambda_enis(self)):
            raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
        return delete_subnet(self, subnet_id)

    SecurityGroupBackend._delete_security_group = _delete_security_group  # type: ignore[method-assign]
    SubnetBackend.delete_subnet = _delete_subnet  # type: ignore[method-assign]


def _lambda_enis(ec2: Any) -> list[Any]:
    return [eni for eni in list(ec2.enis.values()) if _is_lambda_eni(eni)]


def _is_lambda_eni(eni: Any) -> bool:
    return getattr(eni, "interface_type", "") == "lambda"


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _subnet(ec2: Any, subnet_id: str) -> Any:
    """The subnet, or None (moto's get_subnet raises for a missing one)."""
    for by_id in ec2.subnets.values():
        if subnet_id in by_id:
            return by_id[subnet_id]
    return None


def _partition(backend: Any) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(backend.region_name))
