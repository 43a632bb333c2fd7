"""EC2 networking: VPCs, subnets, gateways, route tables, security groups.

EC2's creates here carry no idempotency token (CreateNatGateway aside), so each is sent through a
client that never resends on its own, tagged at creation, and on a lost answer looked up by its tags
or name and adopted (``create_or_adopt``). Associations and routes treat "already there" as done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.retry import create_or_adopt
from tscloud_py.aws.session import call, ignoring, paginate
from tscloud_py.aws.waiters import Poll, ProgressCallback, WaitPolicy, wait_for

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.waiters import Clock


def _spec(resource: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource, "Tags": tag_list(tags)}]


def _by_tags(tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(tags.items())]


class Ec2:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("ec2", region)
        self.once = factory.client("ec2", region, once=True)

    # -- VPCs and subnets -------------------------------------------------------------
    def default_vpc(self) -> str | None:
        vpcs = call(self.c.describe_vpcs, "ec2:DescribeVpcs",
                    Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        return str(vpcs[0]["VpcId"]) if vpcs else None

    def find_vpc(self, tags: dict[str, str]) -> dict[str, Any] | None:
        vpcs = list(paginate(self.c, "describe_vpcs", "Vpcs", Filters=_by_tags(tags)))
        return vpcs[0] if vpcs else None

    def create_vpc(self, cidr: str, tags: dict[str, str]) -> str:
        def find() -> str | None:
            found = self.find_vpc(tags)
            return str(found["VpcId"]) if found else None

        vpc_id = create_or_adopt(
            lambda: str(call(self.once.create_vpc, "ec2:CreateVpc", CidrBlock=cidr,
                             TagSpecifications=_spec("vpc", tags))["Vpc"]["VpcId"]),
            find, "ec2:CreateVpc")
        call(self.c.modify_vpc_attribute, "ec2:ModifyVpcAttribute", VpcId=vpc_id,
             EnableDnsHostnames={"Value": True})
        return vpc_id

    def vpc_cidr(self, vpc_id: str) -> str:
        vpcs = call(self.c.describe_vpcs, "ec2:DescribeVpcs", VpcIds=[vpc_id])["Vpcs"]
        return str(vpcs[0]["CidrBlock"])

    def subnets(self, vpc_id: str, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
        filters = [{"Name": "vpc-id", "Values": [vpc_id]}, *_by_tags(extra or {})]
        return list(paginate(self.c, "describe_subnets", "Subnets", Filters=filters))

    def default_subnets(self) -> list[dict[str, Any]]:
        """The region's default subnets: only the default VPC has them, so no VPC id is needed."""
        return list(paginate(self.c, "describe_subnets", "Subnets",
                             Filters=[{"Name": "default-for-az", "Values": ["true"]}]))

    def create_subnet(self, vpc_id: str, cidr: str, az: str, tags: dict[str, str]) -> str:
        def find() -> str | None:
            return next((str(s["SubnetId"]) for s in self.subnets(vpc_id) if s.get("CidrBlock") == cidr), None)

        return create_or_adopt(
            lambda: str(call(self.once.create_subnet, "ec2:CreateSubnet", VpcId=vpc_id, CidrBlock=cidr,
                             AvailabilityZone=az, TagSpecifications=_spec("subnet", tags))["Subnet"]["SubnetId"]),
            find, "ec2:CreateSubnet", exists=("InvalidSubnet.Conflict",))

    def availability_zones(self) -> list[str]:
        zones = call(self.c.describe_availability_zones, "ec2:DescribeAvailabilityZones",
                     Filters=[{"Name": "state", "Values": ["available"]},
                              {"Name": "zone-type", "Values": ["availability-zone"]}])["AvailabilityZones"]
        return sorted(str(z["ZoneName"]) for z in zones)

    def delete_subnet(self, subnet_id: str) -> None:
        with ignoring("InvalidSubnetID.NotFound"):
            call(self.c.delete_subnet, "ec2:DeleteSubnet", SubnetId=subnet_id)

    def delete_vpc(self, vpc_id: str) -> None:
        with ignoring("InvalidVpcID.NotFound"):
            call(self.c.delete_vpc, "ec2:DeleteVpc", VpcId=vpc_id)

    # -- gateways and routes -----------------------------------------------------------
    def internet_gateway(self, vpc_id: str) -> str | None:
        igws = call(self.c.describe_internet_gateways, "ec2:DescribeInternetGateways",
                    Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
        return str(igws[0]["InternetGatewayId"]) if igws else None

    def create_internet_gateway(self, vpc_id: str, tags: dict[str, str]) -> str:
        def find() -> str | None:
            igws = call(self.c.describe_internet_gateways, "ec2:DescribeInternetGateways",
                        Filters=_by_tags(tags))["InternetGateways"]
            return str(igws[0]["InternetGatewayId"]) if igws else None

        igw_id = create_or_adopt(
            lambda: str(call(self.once.create_internet_gateway, "ec2:CreateInternetGateway",
                             TagSpecifications=_spec("internet-gateway", tags))["InternetGateway"]["InternetGatewayId"]),
            find, "ec2:CreateInternetGateway")
        with ignoring("Resource.AlreadyAssociated"):  # a retried attach whose first answer was lost
            call(self.c.attach_internet_gateway, "ec2:AttachInternetGateway", InternetGatewayId=igw_id,
                 VpcId=vpc_id)
        return igw_id


    def delete_internet_gateway(self, igw_id: str, vpc_id: str) -> None:
        with ignoring("Gateway.NotAttached", "InvalidInternetGatewayID.NotFound"):
            call(self.c.detach_internet_gateway, "ec2:DetachInternetGateway", InternetGatewayId=igw_id,
                 VpcId=vpc_id)
        with ignoring("InvalidInternetGatewayID.NotFound"):
            call(self.c.delete_internet_gateway, "ec2:DeleteInternetGateway", InternetGatewayId=igw_id)

    def route_tables(self, vpc_id: str, tags: dict[str, str]) -> list[dict[str, Any]]:
        return list(paginate(self.c, "describe_route_tables", "RouteTables",
                             Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, *_by_tags(tags)]))

    def create_route_table(self, vpc_id: str, tags: dict[str, str]) -> str:
        def find() -> str | None:
            tables = self.route_tables(vpc_id, tags)
            return str(tables[0]["RouteTableId"]) if tables else None

        return create_or_adopt(
            lambda: str(call(self.once.create_route_table, "ec2:CreateRouteTable", VpcId=vpc_id,
                             TagSpecifications=_spec("route-table", tags))["RouteTable"]["RouteTableId"]),
            find, "ec2:CreateRouteTable")

    def create_route(self, rt_id: str, *, gateway_id: str | None = None, nat_gateway_id: str | None = None) -> None:
        kwargs: dict[str, Any] = {"RouteTableId": rt_id, "DestinationCidrBlock": "0.0.0.0/0"}
        if gateway_id:
            kwargs["GatewayId"] = gateway_id
        if nat_gateway_id:
            kwargs["NatGatewayId"] = nat_gateway_id
        with ignoring("RouteAlreadyExists"):  # a retried create whose first answer was lost
            call(self.c.create_route, "ec2:CreateRoute", **kwargs)

    def associate_route_table(self, rt_id: str, subnet_id: str) -> None:
        with ignoring("Resource.AlreadyAssociated"):
            call(self.c.associate_route_table, "ec2:AssociateRouteTable", RouteTableId=rt_id, SubnetId=subnet_id)

    def delete_route_table(self, rt: dict[str, Any]) -> None:
        for assoc in rt.get("Associations", []):
            if not assoc.get("Main"):
                with ignoring("InvalidAssociationID.NotFound"):
                    call(self.c.disassociate_route_table, "ec2:DisassociateRouteTable",
                         AssociationId=assoc["RouteTableAssociationId"])
        with ignoring("InvalidRouteTableID.NotFound"):
            call(self.c.delete_route_table, "ec2:DeleteRouteTable", RouteTableId=rt["RouteTableId"])

    def nat_gateways(self, vpc_id: str, tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
        gws = paginate(self.c, "describe_nat_gateways", "NatGateways",
                       Filter=[{"Name": "vpc-id", "Values": [vpc_id]}, *_by_tags(tags or {})])
        return [g for g in gws if g.get("State") not in ("deleted", "deleting", "failed")]

    def create_nat_gateway(self, subnet_id: str, tags: dict[str, str], token: str) -> str:
        def find() -> str | None:
            free = [a for a in self.addresses(tags) if not a.get("AssociationId")]
            return str(free[0]["AllocationId"]) if free else None

        allocation = create_or_adopt(
            lambda: str(call(self.once.allocate_address, "ec2:AllocateAddress", Domain="vpc",
                             TagSpecifications=_spec("elastic-ip", tags))["AllocationId"]),
            find, "ec2:AllocateAddress")
        gw = call(self.c.create_nat_gateway, "ec2:CreateNatGateway", SubnetId=subnet_id,
                  AllocationId=allocation, ClientToken=token,
                  TagSpecifications=_spec("natgateway", tags))["NatGateway"]
        return str(gw["NatGatewayId"])

    def wait_nat_available(self, nat_id: str, *, progress: ProgressCallback | None = None,
                           clock: Clock | None = None) -> None:
        def check() -> Poll[str]:
            gws = call(self.c.describe_nat_gateways, "ec2:DescribeNatGateways",
                       NatGatewayIds=[nat_id])["NatGateways"]
            state = str(gws[0]["State"]) if gws else "missing"
            return Poll.finished(state, state) if state == "available" else Poll.pending(state)

        wait_for(check, what=f"NAT gateway {nat_id} available", policy=WaitPolicy(timeout=900),
                 clock=clock, progress=progress)

    def delete_nat_gateway(self, nat_id: str) -> None:
        with ignoring("NatGatewayNotFound", "InvalidNatGatewayID.NotFound"):
            call(self.c.delete_nat_gateway, "ec2:DeleteNatGateway", NatGatewayId=nat_id)

    def addresses(self, tags: dict[str, str]) -> list[dict[str, Any]]:
        return list(call(self.c.describe_addresses, "ec2:DescribeAddresses", Filters=_by_tags(tags))["Addresses"])

    def release_address(self, allocation_id: str) -> None:
        with ignoring("InvalidAllocationID.NotFound"):
            call(self.c.release_address, "ec2:ReleaseAddress", AllocationId=allocation_id)

    def managed_prefix_list(self, name: str) -> str | None:
        """The id of an AWS-managed prefix list (e.g. com.amazonaws.global.cloudfront.origin-facing)."""
        found = call(self.c.describe_managed_prefix_lists, "ec2:DescribeManagedPrefixLists",
                     Filters=[{"Name": "prefix-list-name", "Values": [name]}])["PrefixLists"]
        return str(found[0]["PrefixListId"]) if found else None

    # -- VPC endpoints -----------------------------------------------------------------
    def vpc_endpoints(self, vpc_id: str, tags: dict[str, str]) -> list[dict[str, Any]]:
        found = paginate(self.c, "describe_vpc_endpoints", "VpcEndpoints",
                         Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, *_by_tags(tags)])
        return [e for e in found if str(e.get("State", "")).lower() not in ("deleted", "deleting", "failed",
                                                                              "rejected", "expired")]

    def create_vpc_endpoint(self, vpc_id: str, service: str, tags: dict[str, str], token: str, *,
                            subnets: list[str] | None = None, security_groups: list[str] | None = None,
                            route_tables: list[str] | None = None) -> str:
        """An interface endpoint (``subnets``, with private DNS) or a gateway one (``route_tables``).
        ClientToken makes a resend the same request; a lost answer is also found by its tags and service."""
        kwargs: dict[str, Any] = {"VpcId": vpc_id, "ServiceName": service, "ClientToken": token,
                                  "TagSpecifications": _spec("vpc-endpoint", tags)}
        if route_tables is not None:
            kwargs.update(VpcEndpointType="Gateway", RouteTableIds=route_tables)
        else:
            kwargs.update(VpcEndpointType="Interface", SubnetIds=subnets or [], SecurityGroupIds=security_groups or [],
                          PrivateDnsEnabled=True)

        def find() -> str | None:
            return next((str(e["VpcEndpointId"]) for e in self.vpc_endpoints(vpc_id, tags)
                         if e.get("ServiceName") == service), None)

        return create_or_adopt(
            lambda: str(call(self.once.create_vpc_endpoint, "ec2:CreateVpcEndpoint", **kwargs)["VpcEndpoint"]
                        ["VpcEndpointId"]),
            find, "ec2:CreateVpcEndpoint")

    def wait_endpoints_available(self, endpoint_ids: list[str], *, progress: ProgressCallback | None = None,
                                 clock: Clock | None = None) -> None:
        def check() -> Poll[str]:
            found = call(self.c.describe_vpc_endpoints, "ec2:DescribeVpcEndpoints",
                         VpcEndpointIds=endpoint_ids)["VpcEndpoints"] if endpoint_ids else []
            pending = sorted(str(e.get("State")) for e in found if str(e.get("State", "")).lower() != "available")
            return Poll.pending(", ".join(pending)) if pending else Poll.finished("available")

        wait_for(check, what="VPC endpoints available", policy=WaitPolicy(timeout=600), clock=clock,
                 progress=progress)

    def set_endpoint_subnets(self, endpoint_id: str, add: list[str], remove: list[str]) -> None:
        call(self.c.modify_vpc_endpoint, "ec2:ModifyVpcEndpoint", VpcEndpointId=endpoint_id,
             AddSubnetIds=add, RemoveSubnetIds=remove)

    def delete_vpc_endpoints(self, endpoint_ids: list[str]) -> None:
        if endpoint_ids:
            call(self.c.delete_vpc_endpoints, "ec2:DeleteVpcEndpoints", VpcEndpointIds=endpoint_ids)

    # -- security groups ---------------------------------------------------------------
    def find_security_groups(self, vpc_id: str, names: list[str]) -> dict[str, dict[str, Any]]:
        """The groups of ``vpc_id`` among ``names``, by name, in one request."""
        groups = paginate(self.c, "describe_security_groups", "SecurityGroups",
                          Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": names}])
        return {str(g["GroupName"]): g for g in groups}

    def security_group(self, group_id: str) -> dict[str, Any] | None:
        with ignoring("InvalidGroup.NotFound"):
            groups = call(self.c.describe_security_groups, "ec2:DescribeSecurityGroups",
                          GroupIds=[group_id])["SecurityGroups"]
            return groups[0] if groups else None
        return None

    def create_security_group(self, vpc_id: str, name: str, description: str, tags: dict[str, str]) -> str:
        def find() -> str | None:
            found = self.find_security_groups(vpc_id, [name]).get(name)
            return str(found["GroupId"]) if found else None

        return create_or_adopt(
            lambda: str(call(self.once.create_security_group, "ec2:CreateSecurityGroup", VpcId=vpc_id,
                             GroupName=name, Description=description,
                             TagSpecifications=_spec("security-group", tags))["GroupId"]),
            find, "ec2:CreateSecurityGroup", exists=("InvalidGroup.Duplicate",))

    def authorize_ingress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        with ignoring("InvalidPermission.Duplicate"):
            call(self.c.authorize_security_group_ingress, "ec2:AuthorizeSecurityGroupIngress",
                 GroupId=group_id, IpPermissions=permissions)

    def revoke_ingress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        with ignoring("InvalidPermission.NotFound"):
            call(self.c.revoke_security_group_ingress, "ec2:RevokeSecurityGroupIngress",
                 GroupId=group_id, IpPermissions=permissions)

    def authorize_egress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        with ignoring("InvalidPermission.Duplicate"):
            call(self.c.authorize_security_group_egress, "ec2:AuthorizeSecurityGroupEgress",
                 GroupId=group_id, IpPermissions=permissions)

    def revoke_egress(self, group_id: str, permissions: list[dict[str, Any]]) -> None:
        with ignoring("InvalidPermission.NotFound"):
            call(self.c.revoke_security_group_egress, "ec2:RevokeSecurityGroupEgress",
                 GroupId=group_id, IpPermissions=permissions)

    def delete_security_group(self, group_id: str) -> None:
        with ignoring("InvalidGroup.NotFound"):
            call(self.c.delete_security_group, "ec2:DeleteSecurityGroup", GroupId=group_id)

    def network_interfaces(self, group_id: str) -> list[dict[str, Any]]:
        return list(paginate(self.c, "describe_network_interfaces", "NetworkInterfaces",
                             Filters=[{"Name": "group-id", "Values": [group_id]}]))
