"""Network tier: the VPC (default, or new with public/private subnets in two AZs) and security groups."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from tscloud_py.aws.ec2 import Ec2
from tscloud_py.aws.retry import retrying
from tscloud_py.concurrency import together
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.errors import AwsError, TscloudError
from tscloud_py.presets.fullstack_app.common import FsStep, worker_in_vpc
from tscloud_py.presets.fullstack_app.origin import OriginChoice
from tscloud_py.presets.naming import Names

CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
NAT_MONTHLY_USD = 32.85  # one NAT gateway, us-east-1, 730 h at $0.045/h, before data processing


def _dependency(exc: BaseException) -> bool:
    """ENIs of stopped tasks and deleted load balancers take minutes to go; until then EC2 says so."""
    return isinstance(exc, AwsError) and exc.code in ("DependencyViolation", "InvalidIPAddress.InUse")


def _until_released(fn: Callable[..., None], *, within: float = 600) -> Callable[..., None]:
    policy = retrying(_dependency, what="still in use by ENIs being released", within=within, first=2.0, most=30.0)
    return lambda *args, **kwargs: policy(fn, *args, **kwargs)


# Lambda releases a VPC function's network interfaces some time after the function is gone: AWS documents
# waits of up to 20 minutes before its security group and subnets can be deleted.
LAMBDA_ENI_RELEASE = 45 * 60


def retains_data(config: Config) -> bool:
    """A retained data store keeps its subnets and security groups alive, so those stay too."""
    return bool((config.database and config.database.retain) or (config.cache and config.cache.retain))


class NetworkStep(FsStep):
    """The VPC: the account's default one, or a new one with public and private subnets in two AZs.

    With a VPC origin (``[api] origin = "vpc"``) the load balancer and the tasks live in private subnets: a
    new VPC has them; in the default VPC two are added (tagged, in /22 blocks no subnet uses), with their own
    route table. Their way out is ``[api] egress``: VPC endpoints (the endpoints step) or a NAT gateway."""

    kind = "VPC"
    provides = frozenset({"vpc_id", "alb_subnets", "task_subnets", "data_subnets", "assign_public_ip",
                          "private_table"})

    def __init__(self, step_id: str, ec2: Ec2, config: Config, names: Names, *, choice: OriginChoice) -> None:
        super().__init__(step_id, config, names)
        self.ec2, self.choice = ec2, choice

    @property
    def new_vpc(self) -> bool:
        net = self.config.network
        return net is not None and net.vpc == "new"

    @property
    def private_tier(self) -> bool:
        """Tasks (and the load balancer) in private subnets of ours."""
        return self.choice.vpc or self.nat

    @property
    def nat(self) -> bool:
        net, api = self.config.network, self.config.api
        assert api is not None
        if self.choice.vpc:
            return api.egress == "nat"
        return net is not None and net.vpc == "new" and net.nat_gateway

    def _layout(self, zones: list[str]) -> list[tuple[str, str, str]]:
        """(tier, az, cidr) for two public and two private /20 subnets."""
        net = self.config.network
        cidr = ipaddress.ip_network(net.cidr if net else "10.0.0.0/16")
        blocks = list(cidr.subnets(new_prefix=20))
        return [("public", zones[0], str(blocks[0])), ("public", zones[1], str(blocks[1])),
                ("private", zones[0], str(blocks[8])), ("private", zones[1], str(blocks[9]))]

    def _default_layout(self, observed: dict[str, Any]) -> list[tuple[str, str, str]]:
        """The default VPC's two private subnets: ours where they exist, else the highest free /22 blocks (1019
        addresses each; the default subnets are /20s)."""
        have = {sub_az: cidr for cidr, (sid, sub_az) in observed["ours"].items()}
        zones = self._zones()
        missing = [az for az in zones if az not in have]
        if missing:
            taken = [ipaddress.IPv4Network(c) for c in observed["taken"]]
            blocks = ipaddress.IPv4Network(self.ec2.vpc_cidr(observed["vpc_id"])).subnets(new_prefix=22)
            free = [b for b in reversed(list(blocks)) if not any(b.overlaps(t) for t in taken)]
            if len(free) < len(missing):
                raise TscloudError(f"network: the default VPC has no free /22 for {len(missing)} private subnets",
                                   "use [network] vpc = \"new\"")
            have.update({az: str(block) for az, block in zip(missing, free, strict=False)})
        return [("private", az, have[az]) for az in zones]

    def read(self, ctx: StepContext) -> Any | None:
        ec2 = self.ec2
        if not self.new_vpc:
            vpc_id, defaults = together(ec2.default_vpc, ec2.default_subnets)
            if vpc_id is None:
                return {"default_missing": True}
            subnets = [s for s in defaults if s.get("VpcId") == vpc_id]
            subnets.sort(key=lambda s: str(s["AvailabilityZone"]))
            ids = [str(s["SubnetId"]) for s in subnets]
            found: dict[str, Any] = {"vpc_id": vpc_id, "public": ids, "private": ids, "default": True}
            if self.private_tier:
                found.update(self._read_private(vpc_id))
            return found
        vpc = ec2.find_vpc(self.tags)
        if vpc is None:
            return None
        vpc_id = str(vpc["VpcId"])
        subnets, igw, route_tables, nats = together(
            lambda: ec2.subnets(vpc_id, self.tags), lambda: ec2.internet_gateway(vpc_id),
            lambda: ec2.route_tables(vpc_id, self.tags), lambda: ec2.nat_gateways(vpc_id))
        found = {"vpc_id": vpc_id, "public": [], "private": [], "cidrs": {}}
        for sub in subnets:
            tier = _tier(sub)
            if tier in ("public", "private"):
                found[tier].append(str(sub["SubnetId"]))
                found["cidrs"][str(sub["CidrBlock"])] = str(sub["SubnetId"])
        found["public"].sort()
        found["private"].sort()
        found["igw"] = igw
        found.update(_tables_and_nat(route_tables, nats))
        return found

    def _read_private(self, vpc_id: str) -> dict[str, Any]:
        """Our private subnets, route table and NAT gateway in the default VPC, and the CIDRs taken there."""
        ec2 = self.ec2
        subnets, route_tables, nats = together(lambda: ec2.subnets(vpc_id), lambda: ec2.route_tables(vpc_id, self.tags),
                                               lambda: ec2.nat_gateways(vpc_id, self.tags))
        ours = {str(s["CidrBlock"]): (str(s["SubnetId"]), str(s["AvailabilityZone"])) for s in subnets
                if _tier(s) == "private" and all(_tag(s, k) == v for k, v in self.tags.items())}
        return {"private": sorted(sid for sid, _az in ours.values()), "ours": ours,
                "cidrs": {cidr: sid for cidr, (sid, _az) in ours.items()},
                "taken": sorted(str(s["CidrBlock"]) for s in subnets), **_tables_and_nat(route_tables, nats)}

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("vpc", None, self.config.network.cidr if self.config.network else "new")]
        if observed.get("default_missing"):
            return [Change("default VPC", None, "missing in this region")]
        changes: list[Change] = []
        if not self.new_vpc:
            if len(observed["public"]) < 2:
                changes.append(Change("default subnets", observed["public"], ">= 2"))
            if not self.private_tier:
                return changes
            layout = self._default_layout(observed)
        else:
            layout = self._layout(self._zones())
            if observed["igw"] is None:
                changes.append(Change("internet gateway", None, "attach"))
            tables = observed["tables"]
            if "public" not in tables or not tables["public"]["routes"] or \
                    sorted(tables["public"]["subnets"]) != observed["public"]:
                changes.append(Change("public route table", None, "0.0.0.0/0 -> internet gateway"))
        for tier, az, cidr in layout:
            if cidr not in observed["cidrs"]:
                changes.append(Change(f"subnet {tier} {az}", None, cidr))
        changes += self._private_changes(observed)
        return changes

    def _private_changes(self, observed: dict[str, Any]) -> list[Change]:
        tables = observed["tables"]
        private = tables.get("private")
        if self.nat:
            if observed["nat"] is None:
                changes = [Change("nat gateway", None, f"1 (about ${NAT_MONTHLY_USD}/month)")]
            elif observed["nat_state"] != "available":
                changes = [Change("nat gateway", observed["nat_state"], "available")]
            else:
                changes = []
            if private is None or observed["nat"] not in private["routes"] or \
                    sorted(private["subnets"]) != observed["private"]:
                changes.append(Change("private route table", None, "0.0.0.0/0 -> nat gateway"))
            return changes
        changes = []
        if observed["nat"] is not None:
            changes.append(Change("nat gateway", observed["nat"], None, destructive=True))
        if self.private_tier and (private is None or private["routes"] or
                                  sorted(private["subnets"]) != observed["private"]):
            changes.append(Change("private route table", None, "no route out but the VPC endpoints"))
        return changes

    def _zones(self) -> list[str]:
        zones = self.ec2.availability_zones()
        if len(zones) < 2:
            raise TscloudError(f"network: region {self.names.region} has fewer than two availability zones")
        return zones[:2]

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        if observed is not None and observed.get("default_missing"):
            raise TscloudError(f"network: no default VPC in {self.names.region}",
                               "set [network] vpc = \"new\" to create one")
        if not self.new_vpc and not self.private_tier:
            return self.outputs(ctx, observed)
        ec2 = self.ec2
        tags = self.tags
        if observed is None:
            vpc_id = ec2.create_vpc(self.config.network.cidr if self.config.network else "10.0.0.0/16",
                                    {**tags, "Name": self.names.resource("vpc")})
            observed = {"vpc_id": vpc_id, "public": [], "private": [], "cidrs": {}, "igw": None, "tables": {},
                        "nat": None, "nat_state": None}
        vpc_id = observed["vpc_id"]
        layout = self._layout(self._zones()) if self.new_vpc else self._default_layout(observed)
        for i, (tier, az, cidr) in enumerate(layout):
            if cidr not in observed["cidrs"]:
                sid = ec2.create_subnet(vpc_id, cidr, az, {**tags, "tscloud:tier": tier,
                                                           "Name": self.names.resource(f"{tier}-{i % 2 + 1}")})
                observed["cidrs"][cidr] = sid
                observed[tier].append(sid)
        observed["public"].sort()
        observed["private"].sort()
        if self.new_vpc:
            igw = observed["igw"] or ec2.create_internet_gateway(vpc_id, tags)
            observed["igw"] = igw
            self._table(observed, "public", gateway=igw)
        if self.nat:
            nat = observed["nat"]
            if nat is None:
                nat = ec2.create_nat_gateway(observed["public"][0], tags, self.names.token("nat"))
            ec2.wait_nat_available(nat, progress=ctx.progress(), clock=ctx.clock)
            observed["nat"] = nat
            self._table(observed, "private", nat=nat)
        else:
            if observed["nat"] is not None:
                ec2.delete_nat_gateway(observed["nat"])
                observed["nat"] = None
            if self.private_tier:
                self._table(observed, "private")
        return self.outputs(ctx, observed)

    def _table(self, observed: dict[str, Any], tier: str, *, gateway: str | None = None,
               nat: str | None = None) -> None:
        ec2 = self.ec2
        table = observed["tables"].get(tier)
        if table is None:
            rt_id = ec2.create_route_table(observed["vpc_id"], {**self.tags, "tscloud:tier": tier,
                                                                "Name": self.names.resource(tier)})
            table = {"id": rt_id, "routes": [], "subnets": []}
            observed["tables"][tier] = table
        if (gateway or nat) and not table["routes"]:
            ec2.create_route(table["id"], gateway_id=gateway, nat_gateway_id=nat)
        for sid in observed[tier]:
            if sid not in table["subnets"]:
                ec2.associate_route_table(table["id"], sid)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        private = self.private_tier
        table = (observed.get("tables") or {}).get("private")
        return {
            "vpc_id": observed["vpc_id"],
            "alb_subnets": list(observed["private"] if self.choice.vpc else observed["public"]),
            "task_subnets": list(observed["private"] if private else observed["public"]),
            # a database's subnets stay where they are: in the default VPC, its default subnets
            "data_subnets": list(observed["private"] if self.new_vpc else observed["public"]),
            "assign_public_ip": not private,
            "private_table": table["id"] if private and table else None,
        }

    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        if observed.get("default_missing") or (observed.get("default") and not observed.get("cidrs")):
            return "kept"  # the account's default VPC, with nothing of ours in it
        if retains_data(self.config):
            ctx.log("kept: a retained data store still lives in this VPC")
            return "kept"
        ec2 = self.ec2
        vpc_id = observed["vpc_id"]
        if observed.get("nat"):
            ec2.delete_nat_gateway(observed["nat"])
        for rt in ec2.route_tables(vpc_id, self.tags):
            ec2.delete_route_table(rt)
        for sid in (observed.get("cidrs") or {}).values():
            _until_released(ec2.delete_subnet)(sid)  # waits out the NAT gateway's and tasks' ENIs
        for address in ec2.addresses(self.tags):
            _until_released(ec2.release_address)(str(address["AllocationId"]))
        if not self.new_vpc:
            return None if observed.get("cidrs") else "kept"  # the account's default VPC is not ours
        if observed.get("igw"):
            _until_released(ec2.delete_internet_gateway)(observed["igw"], vpc_id)
        _until_released(ec2.delete_vpc)(vpc_id)
        return None

    def destroy_changes(self, observed: Any) -> list[Change]:
        if not self.new_vpc:
            if observed.get("cidrs"):
                return [Change("delete private subnets of the default VPC", sorted(observed["cidrs"]), None, True)]
            return [Change("default VPC (kept)")]
        return [Change("delete VPC and subnets", observed.get("vpc_id"), None, True)]


def _tag(resource: dict[str, Any], key: str) -> str | None:
    return next((str(t["Value"]) for t in resource.get("Tags", []) if t["Key"] == key), None)


def _tier(resource: dict[str, Any]) -> str | None:
    return _tag(resource, "tscloud:tier")


def _tables_and_nat(route_tables: list[dict[str, Any]], nats: list[dict[str, Any]]) -> dict[str, Any]:
    """Our route tables by tier (their default routes and subnets) and the NAT gateway, as read."""
    tables = {_tier(rt) or "": rt for rt in route_tables}
    return {
        "tables": {tier: {"id": rt["RouteTableId"],
                          "routes": sorted(str(r.get("GatewayId") or r.get("NatGatewayId"))
                                           for r in rt.get("Routes", []) if r.get("DestinationCidrBlock") == "0.0.0.0/0"),
                          "subnets": sorted(str(a["SubnetId"]) for a in rt.get("Associations", []) if a.get("SubnetId"))}
                   for tier, rt in tables.items() if tier},
        "nat": str(nats[0]["NatGatewayId"]) if nats else None,
        "nat_state": str(nats[0].get("State")) if nats else None,
    }


class SecurityGroupsStep(FsStep):
    """ALB, service, database and cache groups, each sending only where it must (groups are stateful, so
    an answer needs no egress rule): the ALB only to the service's port, the service HTTPS out (ECR, logs,
    Secrets Manager, AWS APIs) and the data tiers' ports, the data tiers nothing. Data tiers accept only
    the service group (SG-to-SG), and the Lambda worker's group when the worker runs in the VPC (it sends
    what the service sends, and accepts nothing)."""

    kind = "security groups"
    provides = frozenset({"alb_sg", "service_sg", "db_sg", "cache_sg", "endpoints_sg", "worker_sg"})

    def __init__(self, step_id: str, ec2: Ec2, config: Config, names: Names, *, needs: list[str],
                 network: Step, choice: OriginChoice) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.ec2, self.choice = ec2, choice
        self.vpc_id: Ref[str] = network.output("vpc_id")

    @property
    def endpoints(self) -> bool:
        api = self.config.api
        assert api is not None
        return self.choice.vpc and api.egress == "endpoints"

    def roles(self) -> list[str]:
        cfg = self.config
        roles = ["alb", "service", *(["worker"] if worker_in_vpc(cfg) else []),
                 *(["endpoints"] if self.endpoints else [])]
        if cfg.database is not None:
            roles.append("db")
        if cfg.cache is not None:
            roles.append("cache")
        return roles

    def wanted_rules(self, ids: dict[str, str]) -> dict[str, set[tuple[int, int, str]]]:
        cfg = self.config
        assert cfg.api is not None
        if self.choice.vpc or cfg.api.alb_ingress == "cloudfront":
            # only CloudFront's origin-facing servers (a VPC origin's among them), on the one port it uses
            port = 443 if cfg.api.domain else 80
            alb = {(port, port, f"pl:{self._cloudfront_prefix_list()}")}
        else:
            alb = {(80, 80, "cidr:0.0.0.0/0"), *(((443, 443, "cidr:0.0.0.0/0"),) if cfg.api.domain else ())}
        rules: dict[str, set[tuple[int, int, str]]] = {
            "alb": alb,
            "service": {(cfg.api.port, cfg.api.port, f"sg:{ids.get('alb', 'alb')}")},
        }
        senders = [f"sg:{ids.get(role, role)}" for role in ("service", "worker") if role in self.roles()]
        if self.endpoints:
            rules["endpoints"] = {(443, 443, peer) for peer in senders}
        if cfg.database is not None:
            rules["db"] = {(5432, 5432, peer) for peer in senders}
        if cfg.cache is not None:
            rules["cache"] = {(6379, 6379, peer) for peer in senders}
        return rules

    def _cloudfront_prefix_list(self) -> str:
        if not hasattr(self, "_prefix_list"):
            found = self.ec2.managed_prefix_list(CLOUDFRONT_PREFIX_LIST)
            if found is None:
                raise TscloudError(f"api.alb_ingress: no managed prefix list {CLOUDFRONT_PREFIX_LIST} in "
                                   f"{self.names.region}", "use alb_ingress = \"anywhere\" in this region")
            self._prefix_list = found
        return self._prefix_list

    def wanted_egress(self, ids: dict[str, str]) -> dict[str, set[tuple[int, int, str]]]:
        cfg = self.config
        assert cfg.api is not None
        service = {(443, 443, "cidr:0.0.0.0/0")}
        if cfg.database is not None:
            service.add((5432, 5432, f"sg:{ids.get('db', 'db')}"))
        if cfg.cache is not None:
            service.add((6379, 6379, f"sg:{ids.get('cache', 'cache')}"))
        rules = {"alb": {(cfg.api.port, cfg.api.port, f"sg:{ids.get('service', 'service')}")}, "service": service,
                 "worker": service}
        return {role: rules.get(role, set()) for role in self.roles()}

    def read(self, ctx: StepContext) -> Any | None:
        # The worker's group is read even when the worker has left the VPC: it stays, unused, until destroy,
        # because Lambda releases the network interfaces that use it only minutes after the function leaves.
        roles = [*self.roles(), *(["worker"] if "worker" not in self.roles() else [])]
        vpc_id = ctx.get(self.vpc_id)
        groups = self.ec2.find_security_groups(vpc_id, [self.names.resource(role) for role in roles])
        found: dict[str, Any] = {}
        for role in roles:
            sg = groups.get(self.names.resource(role))
            if sg is not None:
                found[role] = {"id": str(sg["GroupId"]), "rules": _rules(sg.get("IpPermissions", [])),
                               "egress": _rules(sg.get("IpPermissionsEgress", []))}
        return found or None

    def _wanted(self, ids: dict[str, str]) -> list[tuple[str, str, set[tuple[int, int, str]]]]:
        """(role, direction, rules) for every group, ingress then egress."""
        ingress, egress = self.wanted_rules(ids), self.wanted_egress(ids)
        return [(role, d, rules) for d, wanted in (("ingress", ingress), ("egress", egress))
                for role, rules in wanted.items()]

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        observed = observed or {}
        ids = {role: g["id"] for role, g in observed.items()}
        changes = [Change(f"{role} security group", None, self.names.resource(role))
                   for role in self.roles() if role not in observed]
        for role, direction, want in self._wanted(ids):
            if role not in observed:
                continue
            have = observed[role]["rules" if direction == "ingress" else "egress"]
            for rule in sorted(want - have):
                changes.append(Change(f"{role} {direction}", None, _describe(rule, direction)))
            for rule in sorted(have - want):
                changes.append(Change(f"{role} {direction}", _describe(rule, direction), None))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        vpc_id = ctx.get(self.vpc_id)
        observed = dict(observed or {})
        for role in self.roles():
            if role not in observed:
                gid = self.ec2.create_security_group(
                    vpc_id, self.names.resource(role), self.names.description(role),
                    {**self.tags, "Name": self.names.resource(role)})
                # AWS gives every new group one rule: all traffic out to anywhere
                observed[role] = {"id": gid, "rules": set(), "egress": {(-1, -1, "cidr:0.0.0.0/0")}}
        ids = {role: g["id"] for role, g in observed.items()}
        for role, direction, want in self._wanted(ids):
            have = observed[role]["rules" if direction == "ingress" else "egress"]
            add = [_permission(r) for r in sorted(want - have)]
            drop = [_permission(r) for r in sorted(have - want)]
            if direction == "ingress":
                if add:
                    self.ec2.authorize_ingress(ids[role], add)
                if drop:
                    self.ec2.revoke_ingress(ids[role], drop)
            else:
                # added before the old rule goes, so that what the group sends is never cut short
                if add:
                    self.ec2.authorize_egress(ids[role], add)
                if drop:
                    self.ec2.revoke_egress(ids[role], drop)
        return self.outputs(ctx, observed)

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {f"{role}_sg": g["id"] for role, g in observed.items()}

    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        if retains_data(self.config):
            ctx.log("kept: a retained data store still uses these security groups")
            return "kept"
        # Revoke SG-to-SG references first, or the referenced groups cannot be deleted.
        for g in observed.values():
            refs = [_permission(r) for r in g["rules"] if r[2].startswith("sg:")]
            if refs:
                self.ec2.revoke_ingress(g["id"], refs)
            out = [_permission(r) for r in g.get("egress", set()) if r[2].startswith("sg:")]
            if out:
                self.ec2.revoke_egress(g["id"], out)
        for role in ("endpoints", "cache", "db", "worker", "service", "alb"):
            if role not in observed:
                continue
            within = 600
            if role == "worker":
                within = LAMBDA_ENI_RELEASE
                ctx.log("the worker's security group goes once Lambda has released the function's network "
                        "interfaces (on AWS, up to 20 minutes after the function is deleted)")
            _until_released(self.ec2.delete_security_group, within=within)(observed[role]["id"])
        return None


def _rules(permissions: list[dict[str, Any]]) -> set[tuple[int, int, str]]:
    """Rules as (from port, to port, source); a rule for all protocols is (-1, -1, source)."""
    out: set[tuple[int, int, str]] = set()
    for p in permissions:
        every = str(p.get("IpProtocol")) == "-1"
        lo, hi = (-1, -1) if every else (int(p.get("FromPort", -1)), int(p.get("ToPort", -1)))
        for r in p.get("IpRanges", []):
            out.add((lo, hi, f"cidr:{r['CidrIp']}"))
        for r in p.get("Ipv6Ranges", []):
            out.add((lo, hi, f"cidr6:{r['CidrIpv6']}"))
        for r in p.get("UserIdGroupPairs", []):
            out.add((lo, hi, f"sg:{r['GroupId']}"))
        for r in p.get("PrefixListIds", []):
            out.add((lo, hi, f"pl:{r['PrefixListId']}"))
    return out


def _permission(rule: tuple[int, int, str]) -> dict[str, Any]:
    lo, hi, source = rule
    kind, _, value = source.partition(":")
    perm: dict[str, Any] = {"IpProtocol": "-1"} if lo == -1 else {"IpProtocol": "tcp", "FromPort": lo, "ToPort": hi}
    if kind == "cidr":
        perm["IpRanges"] = [{"CidrIp": value}]
    elif kind == "cidr6":
        perm["Ipv6Ranges"] = [{"CidrIpv6": value}]
    elif kind == "pl":
        perm["PrefixListIds"] = [{"PrefixListId": value}]
    else:
        perm["UserIdGroupPairs"] = [{"GroupId": value}]
    return perm


def _describe(rule: tuple[int, int, str], direction: str = "ingress") -> str:
    lo, hi, peer = rule
    what = "all traffic" if lo == -1 else f"tcp {lo}{'' if lo == hi else f'-{hi}'}"
    return f"{what} {'from' if direction == 'ingress' else 'to'} {peer.split(':', 1)[1]}"
