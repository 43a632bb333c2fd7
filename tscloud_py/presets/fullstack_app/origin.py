"""How CloudFront reaches the API: ``[api] origin``, and the CloudFront VPC origin of ``vpc`` mode.

``vpc``: the load balancer is internal, in private subnets, and CloudFront reaches it through a VPC origin;
nothing else can, so no origin-verify header is needed. ``public``: an internet-facing load balancer that
forwards only requests carrying the origin-verify header CloudFront adds.

A stage whose config leaves ``origin`` unset is ``vpc`` when it is new and ``public`` when it already runs
one: "already runs one" is read from reality, not from the journal (which may be lost or stale): the
stage's public load balancer (``{app}-{stage}-alb``) exists and is internet-facing. So deploying a new
stage gives it a VPC origin, and upgrading tscloud never moves an existing stage by itself; setting
``origin = "vpc"`` moves it (the plan spells the replacement out).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.ecs import Ecs
from tscloud_py.aws.elbv2 import Elbv2
from tscloud_py.aws.retry import codes, retrying
from tscloud_py.concurrency import together
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.fullstack_app.common import FsStep
from tscloud_py.presets.naming import Names

PUBLIC_ROLE, INTERNAL_ROLE = "alb", "ialb"  # the two load balancers' names: {app}-{stage}-{role}
PUBLIC_TARGETS, INTERNAL_TARGETS = "api", "iapi"  # and their target groups'


class OriginChoice:
    """The stage's origin mode, decided once per run: ``[api] origin``, else (attached to CloudFront) public
    when the stage's internet-facing load balancer exists and vpc when it does not; an API that CloudFront
    does not front is public. Steps ask it while they read, so the one lookup happens with the first."""

    def __init__(self, config: Config, elbv2: Elbv2, names: Names) -> None:
        self.config, self.elbv2, self.names = config, elbv2, names
        self._lock = threading.Lock()
        self._decided: tuple[str, str] | None = None

    @property
    def attached(self) -> bool:
        return self.config.frontend is not None or self.config.site is not None

    def _decide(self) -> tuple[str, str]:
        api = self.config.api
        assert api is not None
        if api.origin is not None:
            return api.origin, "set by [api] origin"
        if not self.attached:
            return "public", "no CloudFront distribution fronts the API"
        name = self.names.resource(PUBLIC_ROLE, 32)
        lb = self.elbv2.find_load_balancer(name)
        if lb is not None and lb.get("Scheme") == "internet-facing":
            return "public", (f"[api] origin unset and this stage already runs the internet-facing load balancer "
                              f"{name}: it stays public until origin = \"vpc\" is set")
        return "vpc", "[api] origin unset and this stage runs no internet-facing load balancer: a new stage"

    def decided(self) -> tuple[str, str]:
        """(mode, why)."""
        with self._lock:
            if self._decided is None:
                self._decided = self._decide()
            return self._decided

    @property
    def vpc(self) -> bool:
        return self.decided()[0] == "vpc"

    def replacing(self) -> str | None:
        """In vpc mode, the name of the public load balancer this stage still runs (public -> vpc), else None."""
        if not self.vpc:
            return None
        name = self.lb_name(current=False)
        return name if self.elbv2.find_load_balancer(name) is not None else None

    def lb_name(self, *, current: bool = True) -> str:
        """The load balancer this mode runs (``current``), or the one the other mode ran."""
        return self.names.resource(INTERNAL_ROLE if self.vpc == current else PUBLIC_ROLE, 32)

    def tg_name(self, *, current: bool = True) -> str:
        return self.names.resource(INTERNAL_TARGETS if self.vpc == current else PUBLIC_TARGETS, 32)


def delete_target_group(elbv2: Elbv2, arn: str) -> None:
    # a load balancer's listener lets go of its target group a moment after the listener is deleted
    retrying(codes("ResourceInUse"), what="target group still in use", attempts=8, first=0.5,
             most=10.0)(elbv2.delete_target_group, arn)


def endpoint_config(name: str, lb_arn: str, https: bool) -> dict[str, Any]:
    """A VPC origin's endpoint: HTTPS to the load balancer's 443 listener when it has a certificate, else
    HTTP to port 80 (inside AWS's network, never over the internet)."""
    return {"Name": name, "Arn": lb_arn, "HTTPPort": 80, "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only" if https else "http-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}


class VpcOriginStep(FsStep):
    """origin = vpc: the CloudFront VPC origin of the internal load balancer, waited for until Deployed (the
    distribution cannot name it before). In public mode there is none to make."""

    kind = "CloudFront VPC origin"
    provides = frozenset({"vpc_origin_id"})

    def __init__(self, step_id: str, cloudfront: CloudFront, config: Config, names: Names, *,
                 needs: Sequence[str], load_balancer: Step, choice: OriginChoice) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.cloudfront, self.choice = cloudfront, choice
        self.lb_arn: Ref[str] = load_balancer.output("lb_arn")
        self.https: Ref[bool] = load_balancer.output("https")

    @property
    def origin_name(self) -> str:
        return self.names.resource("api-origin")

    def _wanted(self, ctx: StepContext) -> dict[str, Any]:
        return endpoint_config(self.origin_name, str(ctx.get(self.lb_arn)), bool(ctx.get(self.https)))

    def read(self, ctx: StepContext) -> Any | None:
        if not self.choice.vpc:
            return None
        summary = self.cloudfront.find_vpc_origin(str(ctx.get(self.lb_arn)))
        if summary is None:
            return None
        found = self.cloudfront.vpc_origin(str(summary["Id"]))
        if found is None:
            return None
        origin, etag = found
        return {"id": origin["Id"], "status": origin.get("Status"), "etag": etag,
                "endpoint": origin.get("VpcOriginEndpointConfig") or {}}

    def _changes(self, ctx: StepContext, observed: dict[str, Any]) -> list[Change]:
        want, have = self._wanted(ctx), observed["endpoint"]
        changes = [Change(f"endpoint {key}", have.get(key), value) for key, value in want.items()
                   if key not in ("Name", "Arn") and have.get(key) != value]
        if observed.get("status") != "Deployed":
            changes.append(Change("status", observed.get("status"), "Deployed"))
        return changes

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if not self.choice.vpc:
            return []
        if observed is None:
            want = self._wanted(ctx)
            return [Change("VPC origin", None, f"{self.origin_name} -> internal load balancer, "
                           f"{want['OriginProtocolPolicy']} on port "
                           f"{want['HTTPSPort'] if want['OriginProtocolPolicy'] == 'https-only' else want['HTTPPort']}")]
        return self._changes(ctx, observed)

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        if not self.choice.vpc:
            return {"vpc_origin_id": None}
        want = self._wanted(ctx)
        if observed is None:
            origin_id = self.cloudfront.create_vpc_origin(want, self.tags)
        else:
            origin_id = observed["id"]
            if any(c.field.startswith("endpoint ") for c in self._changes(ctx, observed)):
                self.cloudfront.update_vpc_origin(origin_id, want, observed["etag"])
        self.cloudfront.wait_vpc_origin_deployed(origin_id, progress=ctx.progress(), clock=ctx.clock)
        return {"vpc_origin_id": origin_id}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"vpc_origin_id": observed["id"] if observed else None}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        # after the attach step has taken the origin out of the distribution (destroy runs in reverse)
        self.cloudfront.delete_vpc_origin(observed["id"])


class ReplacedLoadBalancerStep(FsStep):
    """public -> vpc, last: once the distribution sends /api/* through the VPC origin, the public load balancer
    is deleted, the service stops registering in its target group, and the target group is deleted. Until then
    the public load balancer serves, so /api/* never lacks an origin that answers. Nothing to do otherwise."""

    kind = "replaced application load balancer"

    def __init__(self, step_id: str, ecs: Ecs, elbv2: Elbv2, config: Config, names: Names, *,
                 needs: Sequence[str], load_balancer: Step, service: Step, choice: OriginChoice) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.ecs, self.elbv2, self.choice = ecs, elbv2, choice
        self.tg_arn: Ref[str] = load_balancer.output("tg_arn")
        self.cluster: Ref[str] = service.output("cluster")
        self.service: Ref[str] = service.output("service")
        self.task_definition_arn: Ref[str] = service.output("task_definition_arn")

    def read(self, ctx: StepContext) -> Any | None:
        if not self.choice.vpc:
            return None
        elb = self.elbv2
        lb, tg = together(lambda: elb.find_load_balancer(self.choice.lb_name(current=False)),
                          lambda: elb.find_target_group(self.choice.tg_name(current=False)))
        return None if lb is None and tg is None else {"lb": lb, "tg": tg}

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return []
        changes = []
        if observed["lb"] is not None:
            changes.append(Change("public load balancer (after /api/* is through the VPC origin)",
                                  observed["lb"]["LoadBalancerName"], None, destructive=True))
        if observed["tg"] is not None:
            changes.append(Change("its target group (the service stops registering there)",
                                  observed["tg"]["TargetGroupName"], None))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        from tscloud_py.aws.waiters import WaitPolicy, wait_for
        from tscloud_py.presets.fullstack_app.rollout import rollout_poll

        if observed is None:
            return {}
        if observed["lb"] is not None:
            self.elbv2.delete_load_balancer(observed["lb"]["LoadBalancerArn"])
        if observed["tg"] is not None:
            # the service keeps its own target group and drains from this one before it goes
            cluster, name, tg_arn = str(ctx.get(self.cluster)), str(ctx.get(self.service)), str(ctx.get(self.tg_arn))
            if self.ecs.remove_target_group(cluster, name, str(observed["tg"]["TargetGroupArn"])):
                api = self.config.api
                assert api is not None
                td_arn = str(ctx.get(self.task_definition_arn))
                wait_for(lambda: rollout_poll(self.ecs, self.elbv2, cluster, name, td_arn, tg_arn),
                         what=f"{name} tasks registered only in its own target group",
                         policy=WaitPolicy(timeout=api.rollout_timeout, first_interval=3, max_interval=15),
                         clock=ctx.clock, progress=ctx.progress())
            delete_target_group(self.elbv2, str(observed["tg"]["TargetGroupArn"]))
        return {}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        # the whole stage goes: the service is deleted after this, wherever it registers
        if observed["lb"] is not None:
            self.elbv2.delete_load_balancer(observed["lb"]["LoadBalancerArn"])
        if observed["tg"] is not None:
            delete_target_group(self.elbv2, str(observed["tg"]["TargetGroupArn"]))
