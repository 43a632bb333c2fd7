"""Steps of the api-domain preset: an API Gateway regional domain name + mapping, or an ALB HTTPS listener."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tscloud_py.aws.apigateway import ApiGateway
from tscloud_py.aws.elbv2 import Elbv2, is_https_redirect, redirect_to_https_action
from tscloud_py.engine.ref import Ref
from tscloud_py.engine.step import Change, Outputs, PendingOutput, Step, StepContext
from tscloud_py.errors import JournalDisagreesError, TscloudError, UsageError
from tscloud_py.presets.naming import Names

NOT_FOUND_ACTION = {"Type": "fixed-response",
                    "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain",
                                            "MessageBody": "not found"}}


class ApiFlavor:
    """Whether an API id is a REST API (apigateway) or an HTTP API (apigatewayv2); looked up once."""

    def __init__(self, apigw: ApiGateway, api_id: str) -> None:
        self.apigw = apigw
        self.api_id = api_id
        self._flavor: str | None = None

    def get(self) -> str:
        if self._flavor is None:
            if self.apigw.get_rest_api(self.api_id) is not None:
                self._flavor = "rest"
            elif self.apigw.get_http_api(self.api_id) is not None:
                self._flavor = "http"
            else:
                raise UsageError(f"api_domain.api_id: no REST or HTTP API '{self.api_id}' in {self.apigw.region}",
                                 "check the id with `aws apigateway get-rest-apis` / `aws apigatewayv2 get-apis`")
        return self._flavor


class ApiGatewayDomainStep(Step):
    """A REGIONAL custom domain name with the certificate; outputs the regional target host name."""

    kind = "API Gateway domain name"
    provides = frozenset({"domain", "target", "target_zone_id", "flavor"})

    def __init__(self, step_id: str, apigw: ApiGateway, flavor: ApiFlavor, domain: str, names: Names, *,
                 certificate_arn: Ref[str], needs: Sequence[str]) -> None:
        self.id = step_id
        self.apigw = apigw
        self.flavor = flavor
        self.domain = domain
        self.tags = names.tags(step_id)
        self.certificate_arn = certificate_arn
        self.needs = tuple(needs)

    def read(self, ctx: StepContext) -> Any | None:
        if self.flavor.get() == "rest":
            d = self.apigw.get_domain_name(self.domain)
            if d is None:
                return None
            return {"flavor": "rest", "certificate_arn": d.get("regionalCertificateArn"),
                    "target": d.get("regionalDomainName"), "target_zone_id": d.get("regionalHostedZoneId"),
                    "tags": d.get("tags") or {}}
        d2 = self.apigw.get_domain_name_v2(self.domain)
        if d2 is None:
            return None
        conf = (d2.get("DomainNameConfigurations") or [{}])[0]
        return {"flavor": "http", "certificate_arn": conf.get("CertificateArn"),
                "target": conf.get("ApiGatewayDomainName"), "target_zone_id": conf.get("HostedZoneId"),
                "tags": d2.get("Tags") or {}}

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        cert = ctx.get(self.certificate_arn)
        if observed is None:
            return [Change("domain name", None, f"{self.domain} (REGIONAL)")]
        if observed["certificate_arn"] != cert:
            return [Change("certificate", observed["certificate_arn"], cert)]
        return []

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        cert = ctx.get(self.certificate_arn)
        rest = self.flavor.get() == "rest"
        if observed is None:
            if rest:
                self.apigw.create_domain_name(self.domain, cert, self.tags)
            else:
                self.apigw.create_domain_name_v2(self.domain, cert, self.tags)
        elif rest:
            self.apigw.set_domain_certificate(self.domain, cert)
        else:
            self.apigw.set_domain_certificate_v2(self.domain, cert)
        return self.outputs(ctx, self.read(ctx))

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        if not observed or not observed.get("target"):
            raise TscloudError(f"API Gateway returned no regional domain name for {self.domain}",
                               "check the domain name in the API Gateway console")
        return {"domain": self.domain, "target": observed["target"], "target_zone_id": observed["target_zone_id"],
                "flavor": observed["flavor"]}

    def _ours(self, observed: Any) -> bool:
        tags = observed.get("tags") or {}
        return all(tags.get(k) == v for k, v in self.tags.items() if k != "tscloud:step")

    def destroy_changes(self, observed: Any) -> list[Change]:
        if not self._ours(observed):
            return [Change("keep (a domain name this app did not create)")]
        return [Change(f"delete domain name {self.domain}", destructive=True)]

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        if not self._ours(observed):
            ctx.log(f"kept domain name {self.domain}: not created by this app")
            return
        if observed["flavor"] == "rest":
            self.apigw.delete_domain_name(self.domain)
        else:
            self.apigw.delete_domain_name_v2(self.domain)


class ApiMappingStep(Step):
    """Maps the API (stage) at ``base_path`` of the domain: a base path mapping (REST) or API mapping (HTTP)."""

    kind = "API mapping"

    def __init__(self, step_id: str, apigw: ApiGateway, flavor: ApiFlavor, domain: str, api_id: str, *,
                 api_stage: str | None, base_path: str, needs: Sequence[str]) -> None:
        self.id = step_id
        self.apigw = apigw
        self.flavor = flavor
        self.domain = domain
        self.api_id = api_id
        self.api_stage = api_stage
        self.base_path = base_path.strip("/")
        self.needs = tuple(needs)
        self._stage: str | None = None

    def stage(self) -> str:
        if self._stage is None:
            if self.api_stage:
                self._stage = self.api_stage
            elif self.flavor.get() == "http":
                self._stage = "$default"
            else:
                stages = self.apigw.rest_stages(self.api_id)
                if len(stages) != 1:
                    raise UsageError(
                        f"api_domain.stage: REST API {self.api_id} has {len(stages)} stages "
                        f"({', '.join(stages) or 'none'}); say which one to map",
                        "set stage = \"prod\" (or another stage) in [api_domain]")
                self._stage = stages[0]
        return self._stage

    def read(self, ctx: StepContext) -> Any | None:
        if self.flavor.get() == "rest":
            for m in self.apigw.base_path_mappings(self.domain):
                path = "" if m.get("basePath") in (None, "(none)") else str(m["basePath"])
                if path == self.base_path:
                    return {"api_id": m.get("restApiId"), "stage": m.get("stage"), "id": path}
            return None
        for m in self.apigw.api_mappings(self.domain):
            if (m.get("ApiMappingKey") or "") == self.base_path:
                return {"api_id": m.get("ApiId"), "stage": m.get("Stage"), "id": m.get("ApiMappingId")}
        return None

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        wanted = f"{self.api_id}/{self.stage()}"
        where = f"https://{self.domain}/{self.base_path}"
        if observed is None:
            return [Change(f"mapping {where}", None, wanted)]
        if (observed["api_id"], observed["stage"]) != (self.api_id, self.stage()):
            return [Change(f"mapping {where}", f"{observed['api_id']}/{observed['stage']}", wanted)]
        return []

    def _delete(self, observed: Any) -> None:
        if self.flavor.get() == "rest":
            self.apigw.delete_base_path_mapping(self.domain, self.base_path)
        else:
            self.apigw.delete_api_mapping(self.domain, str(observed["id"]))

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        if observed is not None:
            self._delete(observed)
        if self.flavor.get() == "rest":
            self.apigw.create_base_path_mapping(self.domain, self.api_id, self.stage(), self.base_path)
        else:
            self.apigw.create_api_mapping(self.domain, self.api_id, self.stage(), self.base_path)
        return {"api_id": self.api_id, "stage": self.stage(), "base_path": self.base_path}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"api_id": observed["api_id"], "stage": observed["stage"], "base_path": self.base_path}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        if observed.get("api_id") != self.api_id:
            ctx.log(f"kept the mapping at /{self.base_path}: it maps another API")
            return
        self._delete(observed)


class AlbHttpsStep(Step):
    """An HTTPS:443 listener serving the certificate on an existing ALB, and HTTP:80 redirecting to it.

    An existing HTTPS listener gets the certificate added (SNI); otherwise one
    is created (tagged) with the HTTP listener's actions. On destroy, what was
    created is deleted, an added certificate is removed, and the HTTP
    listener's recorded original actions are restored.
    """

    kind = "ALB HTTPS listener"
    provides = frozenset({"target", "target_zone_id", "listener_arn", "load_balancer_arn", "http_original_actions"})

    def __init__(self, step_id: str, elbv2: Elbv2, load_balancer: str, names: Names, *, certificate_arn: Ref[str],
                 needs: Sequence[str]) -> None:
        self.id = step_id
        self.elbv2 = elbv2
        self.load_balancer = load_balancer
        self.tags = names.tags(step_id)
        self.certificate_arn = certificate_arn
        self.needs = tuple(needs)

    def _ours(self, arn: str | None) -> bool:
        if not arn:
            return False
        tags = self.elbv2.tags(arn)
        return all(tags.get(k) == v for k, v in self.tags.items())

    def read(self, ctx: StepContext) -> Any | None:
        observed = self._observe()
        if not observed["https_arn"] and not is_https_redirect(observed["http_actions"]):
            return None  # nothing this step does is there yet
        return observed

    def _observe(self) -> dict[str, Any]:
        lb = self.elbv2.find_load_balancer(self.load_balancer)
        if lb is None:
            raise UsageError(f"api_domain.load_balancer: no load balancer '{self.load_balancer}'",
                             "check the name with `aws elbv2 describe-load-balancers`")
        https = self.elbv2.listener_on_port(lb["LoadBalancerArn"], 443)
        http = self.elbv2.listener_on_port(lb["LoadBalancerArn"], 80)
        observed = {
            "lb_arn": lb["LoadBalancerArn"], "lb_vpc": lb.get("VpcId", ""), "target": lb["DNSName"], "target_zone_id": lb["CanonicalHostedZoneId"],
            "https_arn": https["ListenerArn"] if https else None,
            "https_certs": self.elbv2.listener_certificates(https["ListenerArn"]) if https else [],
            "https_ours": self._ours(https["ListenerArn"]) if https else False,
            "http_arn": http["ListenerArn"] if http else None,
            "http_actions": http["DefaultActions"] if http else [],
            "http_ours": self._ours(http["ListenerArn"]) if http else False,
        }
        return observed

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        cert = ctx.get(self.certificate_arn)
        if observed is None or not observed["https_arn"]:
            changes = [Change("HTTPS:443 listener", None, cert)]
        elif cert not in observed["https_certs"]:
            changes = [Change("HTTPS:443 certificate", None, cert)]
        else:
            changes = []
        if observed is None or not observed["http_arn"]:
            changes.append(Change("HTTP:80 listener", None, "redirect to HTTPS"))
        elif not is_https_redirect(observed["http_actions"]):
            changes.append(Change("HTTP:80 default action", "forward", "redirect to HTTPS"))
        return changes

    def _unlike_ours(self, actions: Any, lb_vpc: str) -> str | None:
        """Why ``actions`` (the journal's record of the HTTP:80 listener's original default actions) are
        not a shape that listener can have had, or None. Only shapes tscloud can check are restored: a
        fixed response, a forward to target groups in the load balancer's VPC, a redirect on the same
        host; anything else (a redirect to another host) is what a changed journal would say."""
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "are not a list of actions"
        groups: list[str] = []
        for action in actions:
            kind = action.get("Type")
            if kind == "fixed-response":
                continue
            if kind == "redirect":
                host = (action.get("RedirectConfig") or {}).get("Host", "#{host}")
                if host != "#{host}":
                    return f"redirect to another host ({host})"
                continue
            if kind != "forward":
                return f"include a {kind!r} action"
            config = action.get("ForwardConfig") or {}
            groups += [str(action["TargetGroupArn"])] if action.get("TargetGroupArn") else []
            groups += [str(g.get("TargetGroupArn")) for g in config.get("TargetGroups") or []]
        vpcs = self.elbv2.target_group_vpcs(sorted(set(groups))) if groups else {}
        strangers = [g for g in groups if vpcs.get(g) != lb_vpc]
        return f"forward to target groups outside this load balancer's VPC ({', '.join(strangers)})" \
            if strangers else None

    def _original(self, ctx: StepContext, current: dict[str, Any]) -> Any:
        """The journal's original HTTP:80 actions, refused unless they are a shape that listener could have."""
        original = ctx.recorded("http_original_actions")
        if original:
            why = self._unlike_ours(original, current.get("lb_vpc", ""))
            if why is not None:
                raise JournalDisagreesError(f"{self.id}: the journal's original HTTP:80 actions {why}; not "
                                            "restored, nothing was changed")
        return original

    def destroy_disagreement(self, ctx: StepContext, observed: Any) -> str | None:
        if not observed["http_arn"] or observed["http_ours"] or not is_https_redirect(observed["http_actions"]):
            return None
        original = ctx.recorded("http_original_actions")
        why = self._unlike_ours(original, observed.get("lb_vpc", "")) if original else None
        return f"the journal's original HTTP:80 actions {why}; not restored" if why else None

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        cert = ctx.get(self.certificate_arn)
        current = observed or self._observe()
        http_actions = current["http_actions"]
        if current["http_arn"] and not is_https_redirect(http_actions):
            original = http_actions
        else:
            original = self._original(ctx, current)
        if not current["https_arn"]:
            actions = original or [NOT_FOUND_ACTION]
            listener = self.elbv2.create_listener(current["lb_arn"], 443, actions, self.tags, protocol="HTTPS",
                                                  certificate_arn=cert)
            ctx.log(f"created HTTPS:443 listener {listener['ListenerArn']}")
        elif cert not in current["https_certs"]:
            self.elbv2.add_listener_certificate(current["https_arn"], cert)
        if not current["http_arn"]:
            self.elbv2.create_listener(current["lb_arn"], 80, [redirect_to_https_action()], self.tags)
        elif not is_https_redirect(http_actions):
            self.elbv2.modify_listener_default(current["http_arn"], [redirect_to_https_action()])
        return {**self.outputs(ctx, self._observe()), "http_original_actions": original}

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        return {"target": observed["target"], "target_zone_id": observed["target_zone_id"],
                "listener_arn": observed["https_arn"], "load_balancer_arn": observed["lb_arn"],
                "http_original_actions": ctx.recorded("http_original_actions")}

    def destroy(self, ctx: StepContext, observed: Any) -> None:
        try:
            cert = ctx.get(self.certificate_arn)
        except PendingOutput:
            cert = ctx.recorded("certificate_arn")
        if observed["https_arn"]:
            if observed["https_ours"]:
                self.elbv2.delete_listener(observed["https_arn"])
            elif cert and cert in observed["https_certs"]:
                self.elbv2.remove_listener_certificate(observed["https_arn"], cert)
        if observed["http_arn"]:
            if observed["http_ours"]:
                self.elbv2.delete_listener(observed["http_arn"])
            elif is_https_redirect(observed["http_actions"]):
                original = self._original(ctx, observed)
                if original:
                    self.elbv2.modify_listener_default(observed["http_arn"], original)
