"""How tasks in private subnets reach AWS with ``[api] egress = "endpoints"``: VPC interface endpoints (private
DNS, in the private subnets, admitting HTTPS from the service's group) for what a Fargate task needs to start
and run (ECR's API and registry, CloudWatch Logs, Secrets Manager, and SQS with a queue), and an S3 gateway
endpoint on the private route table (ECR keeps image layers in S3). Nothing else leaves the VPC."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.ec2 import Ec2
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.fullstack_app.common import FsStep
from tscloud_py.presets.fullstack_app.origin import OriginChoice
from tscloud_py.presets.naming import Names

INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
ENDPOINT_MONTHLY_USD = 14.60  # one interface endpoint in two AZs, us-east-1: 2 x 730 h at $0.01/h


def interface_services(config: Config) -> list[str]:
    return [*INTERFACE_SERVICES, *(["sqs"] if config.queue is not None else [])]


class EndpointsStep(FsStep):
    kind = "VPC endpoints"
    provides = frozenset({"endpoints"})

    def __init__(self, step_id: str, ec2: Ec2, config: Config, names: Names, *, needs: Sequence[str],
                 network: Step, security_groups: Step, choice: OriginChoice) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.ec2, self.choice = ec2, choice
        self.vpc_id: Ref[str] = network.output("vpc_id")
        self.subnets: Ref[list[str]] = network.output("task_subnets")
        self.route_table: Ref[str | None] = network.output("private_table")
        self.security_group: Ref[str | None] = security_groups.output("endpoints_sg")

    @property
    def wanted(self) -> bool:
        api = self.config.api
        assert api is not None
        return self.choice.vpc and api.egress == "endpoints"

    def _service(self, short: str) -> str:
        return f"com.amazonaws.{self.names.region}.{short}"

    def _wanted_services(self) -> list[str]:
        if not self.wanted:
            return []
        return [*(self._service(s) for s in interface_services(self.config)), self._service("s3")]

    def read(self, ctx: StepContext) -> Any | None:
        found = self.ec2.vpc_endpoints(ctx.get(self.vpc_id), self.tags)
        return {str(e["ServiceName"]): {"id": str(e["VpcEndpointId"]), "subnets": sorted(e.get("SubnetIds") or [])}
                for e in found} or None

    def _changes(self, ctx: StepContext, observed: dict[str, Any]) -> list[Change]:
        wanted = self._wanted_services()
        changes = []
        for service in wanted:
            have = observed.get(service)
            gateway = service.endswith(".s3")
            if have is None:
                changes.append(Change(f"endpoint {service}", None, "gateway" if gateway else "interface"))
            elif not gateway and have["subnets"] != sorted(ctx.get(self.subnets)):
                changes.append(Change(f"endpoint {service} subnets", have["subnets"], sorted(ctx.get(self.subnets))))
        for service, have in sorted(observed.items()):
            if service not in wanted:
                changes.append(Change(f"endpoint {service}", have["id"], None))
        return changes

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        return self._changes(ctx, observed or {})

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        observed = dict(observed or {})
        wanted = self._wanted_services()
        vpc_id = ctx.get(self.vpc_id)
        for service in wanted:
            have = observed.get(service)
            subnets = sorted(ctx.get(self.subnets))
            if have is None:
                token = self.names.token(f"endpoint-{service}")
                if service.endswith(".s3"):
                    table = ctx.get(self.route_table)
                    assert table is not None  # the private tier has its route table
                    eid = self.ec2.create_vpc_endpoint(vpc_id, service, self.tags, token, route_tables=[table])
                else:
                    group = ctx.get(self.security_group)
                    assert group is not None  # made with the endpoints role
                    eid = self.ec2.create_vpc_endpoint(vpc_id, service, self.tags, token, subnets=subnets,
                                                       security_groups=[group])
                observed[service] = {"id": eid, "subnets": [] if service.endswith(".s3") else subnets}
            elif not service.endswith(".s3") and have["subnets"] != subnets:
                self.ec2.set_endpoint_subnets(have["id"], sorted(set(subnets) - set(have["subnets"])),
                                              sorted(set(have["subnets"]) - set(subnets)))
        stale = [have["id"] for service, have in observed.items() if service not in wanted]
        self.ec2.delete_vpc_endpoints(stale)
        # a task started before its endpoints answer cannot pull its image
        self.ec2.wait_endpoints_available([observed[s]["id"] for s in wanted], progress=ctx.progress(),
                                          clock=ctx.clock)
        return {"endpoints": sorted(service for service in observed if service in wanted)}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"endpoints": sorted(observed or {})}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.ec2.delete_vpc_endpoints([have["id"] for have in observed.values()])
