"""Edge tier: the origin-verify secret, the ALB (target group, listener, header rule), and the
splice of ``path`` -> ALB into a CloudFront distribution (the existing one, or the [site] one)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tscloud_py.aws.cloudfront.client import CloudFront
from tscloud_py.aws.elbv2 import Elbv2, redirect_to_https_action
from tscloud_py.aws.secrets import Secrets
from tscloud_py.concurrency import each, together
from tscloud_py.config.schema import Config
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, Step, StepContext
from tscloud_py.presets.fullstack_app.common import ORIGIN_HEADER, FsStep, compare
from tscloud_py.presets.fullstack_app.origin import OriginChoice, delete_target_group
from tscloud_py.presets.naming import Names, token

FORBIDDEN = {"Type": "fixed-response",
             "FixedResponseConfig": {"StatusCode": "403", "ContentType": "text/plain", "MessageBody": "Forbidden"}}
RULE_PRIORITY = 10


def _fingerprint(secret: str) -> str:
    """A short digest that identifies a secret value in diffs without revealing it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


class OriginSecretStep(FsStep):
    """A random value CloudFront sends as X-Origin-Verify; the ALB forwards only requests carrying it. With a
    VPC origin nothing but CloudFront reaches the load balancer, so there is no header and no secret."""

    kind = "Secrets Manager secret"
    provides = frozenset({"secret_arn", "header"})

    def __init__(self, step_id: str, secrets: Secrets, config: Config, names: Names, *,
                 choice: OriginChoice) -> None:
        super().__init__(step_id, config, names)
        self.secrets, self.choice = secrets, choice

    @property
    def secret_name(self) -> str:
        return self.names.secret("origin-verify")

    def read(self, ctx: StepContext) -> Any | None:
        return self.secrets.describe(self.secret_name)

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if self.choice.vpc:
            return [] if observed is None else [Change("secret (origin = vpc: no origin-verify header)",
                                                       self.secret_name, None)]
        return [Change("secret", None, self.secret_name)] if observed is None else []

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        if self.choice.vpc:
            if observed is not None:
                self.secrets.delete(self.secret_name)
            return {"secret_arn": None, "header": None}
        arn = self.secrets.create_random(self.secret_name, "CloudFront -> ALB origin-verify header value",
                                             self.tags, token=token(self.secret_name, "v1"), length=48)
        return {"secret_arn": arn, "header": ORIGIN_HEADER}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        if self.choice.vpc:
            return {"secret_arn": None, "header": None}
        return {"secret_arn": observed["ARN"], "header": ORIGIN_HEADER}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        self.secrets.delete(self.secret_name)


@dataclass
class _Plan:
    """A step's differences as shown (``changes``) and the work they call for (``todo``)."""

    changes: list[Change] = field(default_factory=list)
    todo: set[str] = field(default_factory=set)

    def add(self, action: str, change: Change) -> None:
        self.changes.append(change)
        self.todo.add(action)

    def compare(self, action: str, label: str, old: Any, new: Any) -> None:
        found = len(self.changes)
        compare(self.changes, label, old, new)
        if len(self.changes) > found:
            self.todo.add(action)


class LoadBalancerStep(FsStep):
    """The ALB (internet-facing; internal in private subnets with a VPC origin), ip target group (health check
    path, 30-60 s deregistration delay), listeners.

    With an origin-verify secret the main listener's default action is 403, and one rule forwards
    only requests that carry the secret header. With a certificate the main listener is HTTPS on 443
    and port 80 only redirects to HTTPS.
    """

    kind = "application load balancer"
    provides = frozenset({"lb_arn", "dns_name", "zone_id", "tg_arn", "listener_arn", "lb_name", "tg_name", "https",
                          "retiring_tg_arn"})

    def __init__(self, step_id: str, elbv2: Elbv2, secrets: Secrets, config: Config, names: Names, *,
                 needs: Sequence[str], network: Step, security_groups: Step, origin_secret: Step | None,
                 certificate: Step | None, choice: OriginChoice) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.elbv2, self.secrets, self.choice = elbv2, secrets, choice
        self.vpc_id: Ref[str] = network.output("vpc_id")
        self.subnets: Ref[list[str]] = network.output("alb_subnets")
        self.security_group: Ref[str] = security_groups.output("alb_sg")
        # With an origin-verify secret only CloudFront, which sends it, is forwarded to the service.
        self.secret_arn: Ref[str] | None = origin_secret.output("secret_arn") if origin_secret else None
        self.certificate_arn: Ref[str] | None = certificate.output("certificate_arn") if certificate else None

    @property
    def verify(self) -> bool:
        return self.secret_arn is not None and not self.choice.vpc

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None

    @property
    def main_port(self) -> int:
        return 443 if self.https else 80

    @property
    def lb_name(self) -> str:
        return self.choice.lb_name()

    @property
    def tg_name(self) -> str:
        return self.choice.tg_name()

    def _health(self) -> dict[str, Any]:
        api = self.config.api
        assert api is not None
        return {"HealthCheckProtocol": "HTTP", "HealthCheckPath": api.health_check, "HealthCheckPort": "traffic-port",
                "HealthCheckIntervalSeconds": 15, "HealthCheckTimeoutSeconds": 5, "HealthyThresholdCount": 2,
                "UnhealthyThresholdCount": 3, "Matcher": {"HttpCode": "200-399"}}

    def _attributes(self) -> dict[str, str]:
        api = self.config.api
        assert api is not None
        return {"deregistration_delay.timeout_seconds": str(api.deregistration_delay)}

    # Header names with characters outside RFC 7230 tokens are dropped, not passed to the app, where a
    # proxy and the app parsing them differently is a request-smuggling risk.
    LB_ATTRIBUTES = {"routing.http.drop_invalid_header_fields.enabled": "true"}

    def _certificate(self, ctx: StepContext) -> str | None:
        return str(ctx.get(self.certificate_arn)) if self.certificate_arn else None

    def read(self, ctx: StepContext) -> Any | None:
        elb = self.elbv2
        # The origin secret is read now, alongside, so that diff finds it in the run's read cache.
        lb, tg, _secret, retiring = together(lambda: elb.find_load_balancer(self.lb_name),
                                             lambda: elb.find_target_group(self.tg_name),
                                             lambda: self._secret(ctx) if self.verify else None,
                                             self._retiring)
        if lb is None and tg is None and retiring is None:
            return None
        found: dict[str, Any] = {"lb": lb, "tg": tg, "listener": None, "rule": None, "http": None,
                                 "stray_listeners": [], "extra_rules": [], "retiring": retiring}
        attributes, listeners, lb_attributes = together(
            lambda: elb.target_group_attributes(tg["TargetGroupArn"]) if tg is not None else None,
            lambda: elb.listeners(lb["LoadBalancerArn"]) if lb is not None else [],
            lambda: elb.load_balancer_attributes(lb["LoadBalancerArn"]) if lb is not None else {})
        found["lb_attributes"] = lb_attributes
        if tg is not None:
            found["tg_attributes"] = attributes
        for li in listeners:
            if li.get("Port") == self.main_port:
                found["listener"] = li
            elif self.https and li.get("Port") == 80:
                found["http"] = li
            else:
                found["stray_listeners"].append(li["ListenerArn"])
        keys = [key for key in ("listener", "http") if found[key] is not None]
        for key, listener_rules in zip(keys, each(keys, lambda k: elb.rules(found[k]["ListenerArn"])), strict=True):
            rules = [r for r in listener_rules if not r.get("IsDefault")]
            if key == "listener":
                found["rule"] = rules[0] if rules else None
                rules = rules[1:]
            found["extra_rules"] += [r["RuleArn"] for r in rules]
        return found

    def _retiring(self) -> str | None:
        """public -> vpc: the public load balancer's target group while that load balancer stands (the service
        registers there too until the distribution has moved to the VPC origin and it is deleted)."""
        if not self.choice.vpc:
            return None
        elb = self.elbv2
        lb, tg = together(lambda: elb.find_load_balancer(self.choice.lb_name(current=False)),
                          lambda: elb.find_target_group(self.choice.tg_name(current=False)))
        return str(tg["TargetGroupArn"]) if lb is not None and tg is not None else None

    def _secret(self, ctx: StepContext) -> str:
        assert self.secret_arn is not None  # only read when verify
        return self.secrets.value(ctx.get(self.secret_arn), cached=True)

    def _wanted_actions(self, tg_arn: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        forward = [{"Type": "forward", "TargetGroupArn": tg_arn}]
        return ([FORBIDDEN] if self.verify else forward), forward

    def _plan(self, ctx: StepContext, observed: dict[str, Any]) -> _Plan:
        """What differs, the one computation behind diff and apply."""
        plan = _Plan()
        lb, tg = observed.get("lb"), observed.get("tg")
        if tg is None:
            plan.add("create target group", Change("target group", None, self.tg_name))
        else:
            for key, value in self._health().items():
                plan.compare("target group health", f"target group {key}", tg.get(key), value)
            for key, value in self._attributes().items():
                plan.compare("target group attributes", f"target group {key}",
                             observed.get("tg_attributes", {}).get(key), value)
        if lb is None:
            plan.add("create load balancer", Change("internal load balancer" if self.choice.vpc else "load balancer",
                                                    None, self.lb_name))
        else:
            for key, value in self.LB_ATTRIBUTES.items():
                plan.compare("load balancer attributes", f"load balancer {key}",
                             observed.get("lb_attributes", {}).get(key), value)
            plan.compare("security groups", "load balancer security groups", sorted(lb.get("SecurityGroups", [])),
                         [ctx.get(self.security_group)])
            plan.compare("subnets", "load balancer subnets",
                         sorted(str(z["SubnetId"]) for z in lb.get("AvailabilityZones", [])),
                         sorted(ctx.get(self.subnets)))
        for arn in observed.get("stray_listeners", []):
            plan.changes.append(Change("unmanaged listener", arn, None))
        for arn in observed.get("extra_rules", []):
            plan.changes.append(Change("unmanaged listener rule", arn, None))
        if self.https:
            http = observed.get("http")
            if http is None:
                plan.add("create http listener", Change("HTTP listener", None, "port 80: redirect to HTTPS"))
            else:
                plan.compare("http listener action", "HTTP listener default action",
                             _actions(http.get("DefaultActions", [])), _actions([redirect_to_https_action()]))
        # Before its target group exists, what forwards to it is new: it has no ARN yet to compare with.
        tg_arn = str(tg["TargetGroupArn"]) if tg is not None else "(new target group)"
        default, forward = self._wanted_actions(tg_arn)
        listener = observed.get("listener")
        if listener is None:
            plan.add("create listener", Change("HTTPS listener" if self.https else "HTTP listener", None,
                                               f"port {self.main_port}"))
        else:
            if self.https:
                have = [c.get("CertificateArn") for c in listener.get("Certificates", [])][:1]
                plan.compare("certificate", "HTTPS listener certificate", have, [self._certificate(ctx)])
            plan.compare("listener action", "listener default action", _actions(listener.get("DefaultActions", [])),
                         _actions(default))
        rule = observed.get("rule")
        if self.verify:
            if rule is None:
                plan.add("create rule", Change("origin-verify rule", None, f"{ORIGIN_HEADER} -> forward"))
            else:
                plan.compare("rule", "origin-verify rule header", [_fingerprint(v) for v in _header_values(rule)],
                             [_fingerprint(self._secret(ctx))])
                plan.compare("rule", "origin-verify rule action", _actions(rule.get("Actions", [])),
                             _actions(forward))
        elif rule is not None:
            plan.add("delete rule", Change("origin-verify rule", "present", None))
        return plan

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is None:
            return [Change("internal load balancer (private subnets)" if self.choice.vpc else "load balancer", None,
                           self.lb_name), Change("target group", None, self.tg_name)]
        return self._plan(ctx, observed).changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        elb = self.elbv2
        observed = observed or {}
        todo = self._plan(ctx, observed).todo
        subnets = sorted(ctx.get(self.subnets))
        sg = ctx.get(self.security_group)
        api = self.config.api
        assert api is not None
        tg = observed.get("tg")
        if "create target group" in todo:
            tg = elb.create_target_group(self.tg_name, ctx.get(self.vpc_id), api.port, self._health(),
                                         self.tags)
        assert tg is not None
        tg_arn = str(tg["TargetGroupArn"])
        if "target group health" in todo:
            elb.modify_target_group(tg_arn, self._health())
        if todo & {"create target group", "target group attributes"}:
            elb.set_target_group_attributes(tg_arn, self._attributes())
        lb = observed.get("lb")
        if "create load balancer" in todo:
            lb = elb.create_load_balancer(self.lb_name, subnets, [sg], self.tags, internal=self.choice.vpc)
        assert lb is not None
        lb_arn = str(lb["LoadBalancerArn"])
        if todo & {"create load balancer", "load balancer attributes"}:
            elb.set_load_balancer_attributes(lb_arn, self.LB_ATTRIBUTES)
        if "security groups" in todo:
            elb.set_security_groups(lb_arn, [sg])
        if "subnets" in todo:
            elb.set_subnets(lb_arn, subnets)
        for arn in observed.get("extra_rules", []):
            elb.delete_rule(arn)
        for arn in observed.get("stray_listeners", []):
            elb.delete_listener(arn)
        default, forward = self._wanted_actions(tg_arn)
        listener = observed.get("listener")
        if "create listener" in todo:
            listener = elb.create_listener(lb_arn, self.main_port, default, self.tags,
                                           protocol="HTTPS" if self.https else "HTTP",
                                           certificate_arn=self._certificate(ctx))
        assert listener is not None
        if "listener action" in todo:
            elb.modify_listener_default(listener["ListenerArn"], default)
        if "certificate" in todo:
            elb.set_default_certificate(listener["ListenerArn"], str(self._certificate(ctx)))
        redirect = [redirect_to_https_action()]
        if "create http listener" in todo:
            elb.create_listener(lb_arn, 80, redirect, self.tags)
        if "http listener action" in todo:
            elb.modify_listener_default(observed["http"]["ListenerArn"], redirect)
        if todo & {"create rule", "rule"}:
            conditions = [{"Field": "http-header",
                           "HttpHeaderConfig": {"HttpHeaderName": ORIGIN_HEADER, "Values": [self._secret(ctx)]}}]
            if "create rule" in todo:
                elb.create_rule(listener["ListenerArn"], RULE_PRIORITY, conditions, forward, self.tags)
            else:
                elb.modify_rule(observed["rule"]["RuleArn"], conditions, forward)
        if "delete rule" in todo:
            elb.delete_rule(observed["rule"]["RuleArn"])
        return self._outputs(lb, tg_arn, str(listener["ListenerArn"]), observed.get("retiring"))

    def _outputs(self, lb: dict[str, Any], tg_arn: str, listener_arn: str, retiring: str | None) -> Outputs:
        return {"lb_arn": lb["LoadBalancerArn"], "dns_name": lb["DNSName"], "zone_id": lb.get("CanonicalHostedZoneId"),
                "tg_arn": tg_arn, "listener_arn": listener_arn, "lb_name": self.lb_name,
                "tg_name": self.tg_name, "https": self.https, "retiring_tg_arn": retiring}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return self._outputs(observed["lb"], observed["tg"]["TargetGroupArn"], observed["listener"]["ListenerArn"],
                             observed.get("retiring"))

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        if observed.get("lb") is not None:
            self.elbv2.delete_load_balancer(observed["lb"]["LoadBalancerArn"])
        if observed.get("tg") is not None:
            delete_target_group(self.elbv2, observed["tg"]["TargetGroupArn"])


def _actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts of listener actions we set, in a comparable shape."""
    out: list[dict[str, Any]] = []
    for a in actions:
        if a.get("Type") == "forward":
            arn = a.get("TargetGroupArn") or next(
                (t.get("TargetGroupArn") for t in a.get("ForwardConfig", {}).get("TargetGroups", [])), None)
            out.append({"Type": "forward", "TargetGroupArn": arn})
        elif a.get("Type") == "redirect":
            cfg = a.get("RedirectConfig", {})
            out.append({"Type": "redirect", "Protocol": cfg.get("Protocol"), "Port": str(cfg.get("Port")),
                        "StatusCode": cfg.get("StatusCode")})
        elif a.get("Type") == "fixed-response":
            cfg = a.get("FixedResponseConfig", {})
            out.append({"Type": "fixed-response", "StatusCode": str(cfg.get("StatusCode"))})
        else:
            out.append({"Type": a.get("Type")})
    return out


def _header_values(rule: dict[str, Any]) -> list[str]:
    for cond in rule.get("Conditions", []):
        if cond.get("Field") == "http-header":
            cfg = cond.get("HttpHeaderConfig", {})
            if str(cfg.get("HttpHeaderName", "")).lower() == ORIGIN_HEADER.lower():
                return [str(v) for v in cfg.get("Values", [])]
    return []


class AttachStep(FsStep):
    """Splices ``path`` -> ALB into the distribution, nothing else: through the VPC origin, or (public) to the
    load balancer's DNS name with the origin-verify header."""

    kind = "CloudFront behavior"

    def __init__(self, step_id: str, cloudfront: CloudFront, secrets: Secrets, config: Config, names: Names, *,
                 needs: Sequence[str], load_balancer: Step, origin_secret: Step, vpc_origin: Step,
                 distribution: Step | None, distribution_id: str | None, path: str, choice: OriginChoice) -> None:
        super().__init__(step_id, config, names, needs=needs)
        self.cloudfront, self.secrets, self.choice = cloudfront, secrets, choice
        self.lb_dns_name: Ref[str] = load_balancer.output("dns_name")
        self.secret_arn: Ref[str | None] = origin_secret.output("secret_arn")
        self.vpc_origin_id: Ref[str | None] = vpc_origin.output("vpc_origin_id")
        # the [site] distribution, made by this app; else the existing one [frontend] names
        self.distribution_ref: Ref[str] | None = distribution.output("distribution_id") if distribution else None
        self.distribution_id = distribution_id
        self.path = path

    @property
    def origin_id(self) -> str:
        return self.names.resource("api")

    def _dist(self, ctx: StepContext) -> str:
        if self.distribution_ref:
            return str(ctx.get(self.distribution_ref))
        assert self.distribution_id is not None
        return self.distribution_id

    def _parts(self, ctx: StepContext) -> tuple[Any, Any]:
        from tscloud_py.aws.cloudfront.model import Behavior, CustomOrigin, VpcOrigin

        api = self.config.api
        assert api is not None
        if self.choice.vpc:
            vpc_origin = ctx.get(self.vpc_origin_id)
            assert vpc_origin is not None  # made in vpc mode
            # the Host CloudFront sends and, over HTTPS, the name the ALB's certificate must carry
            domain = api.domain or str(ctx.get(self.lb_dns_name))
            return VpcOrigin(id=self.origin_id, domain=domain, vpc_origin_id=vpc_origin,
                             read_timeout=60), Behavior(path_pattern=self.path)
        arn = ctx.get(self.secret_arn)
        assert arn is not None  # made in public mode
        secret = self.secrets.value(arn, cached=True)
        if api.domain:  # the ALB's certificate names api.domain: CloudFront connects over TLS
            origin = CustomOrigin(id=self.origin_id, domain=api.domain, protocol="https-only", verify_secret=secret,
                                  read_timeout=60)
        else:
            origin = CustomOrigin(id=self.origin_id, domain=str(ctx.get(self.lb_dns_name)),
                                  protocol="http-only", verify_secret=secret, read_timeout=60)
        return origin, Behavior(path_pattern=self.path)

    def read(self, ctx: StepContext) -> Any | None:
        from tscloud_py.aws.cloudfront.model import items_of
        from tscloud_py.aws.cloudfront.splice import UnknownDistributionError

        try:
            config, _etag = self.cloudfront.get_config_checked(self._dist(ctx), cached=True)
        except UnknownDistributionError:
            if self.distribution_ref:
                return None  # the [site] distribution is gone already
            raise
        present = any(o.get("Id") == self.origin_id for o in items_of(config.get("Origins")))
        return {"distribution_id": self._dist(ctx)} if present else None

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        origin, behavior = self._parts(ctx)
        result = self.cloudfront.attach_origin(self._dist(ctx), origin, behavior, replace=True, dry_run=True)
        if result.status == "unchanged":
            return []
        if self.choice.vpc:
            return [Change(f"{self.path} -> {origin.domain}", None if observed is None else "different",
                           f"origin {self.origin_id} through VPC origin {origin.vpc_origin_id} (no {ORIGIN_HEADER})")]
        return [Change(f"{self.path} -> {origin.domain}", None if observed is None else "different",
                       f"origin {self.origin_id} with {ORIGIN_HEADER}")]

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        origin, behavior = self._parts(ctx)
        cf = self.cloudfront
        dist = self._dist(ctx)
        result = cf.attach_origin(dist, origin, behavior, replace=True, notify=ctx.log)
        if result.written:
            cf.wait_deployed(dist, progress=ctx.progress(), clock=ctx.clock)
        return self.outputs(ctx, {"distribution_id": dist})

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        dist = observed["distribution_id"]
        domain = self.cloudfront.get_distribution(dist, cached=True).domain_name
        return {"distribution_id": dist, "origin_id": self.origin_id, "path": self.path,
                "url": f"https://{domain}{self.path.rstrip('*')}"}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        cf = self.cloudfront
        result = cf.detach_origin(observed["distribution_id"], self.origin_id, notify=ctx.log)
        if result.written and not self.distribution_ref:
            cf.wait_deployed(observed["distribution_id"], progress=ctx.progress(), clock=ctx.clock)

    def destroy_changes(self, observed: Any) -> list[Change]:
        return [Change(f"remove origin {self.origin_id} and its {self.path} behavior from "
                       f"{observed['distribution_id']}")]
