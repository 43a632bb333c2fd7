"""Elastic Load Balancing v2: application load balancers, target groups, listeners, rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.aws._tags import tag_list, tags_dict
from tscloud_py.aws.retry import create_or_adopt
from tscloud_py.aws.session import call, ignoring, paginate

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


#: a current TLS policy (TLS 1.3 + 1.2)
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def redirect_to_https_action(port: int = 443) -> dict[str, Any]:
    """A default action that redirects to HTTPS with a 301, keeping host, path and query."""
    return {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": str(port), "Host": "#{host}",
                                                   "Path": "/#{path}", "Query": "#{query}",
                                                   "StatusCode": "HTTP_301"}}


def is_https_redirect(actions: list[dict[str, Any]]) -> bool:
    return any(a.get("Type") == "redirect" and a.get("RedirectConfig", {}).get("Protocol") == "HTTPS"
               for a in actions)


class Elbv2:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("elbv2", region)
        # CreateRule is not idempotent (a resend answers PriorityInUse); the other creates are, when sent again
        # with the very same settings. Every create goes out once and create_or_adopt looks first: one path
        # for all, which does not depend on a resend matching the first request.
        self.once = factory.client("elbv2", region, once=True)

    # -- load balancers ----------------------------------------------------------------
    def find_load_balancer(self, name: str) -> dict[str, Any] | None:
        """A load balancer by name (or by ARN, when ``name`` starts with ``arn:``); None if absent."""
        key = "LoadBalancerArns" if name.startswith("arn:") else "Names"
        with ignoring("LoadBalancerNotFound"):
            lbs = call(self.c.describe_load_balancers, "elbv2:DescribeLoadBalancers", **{key: [name]})
            found = lbs.get("LoadBalancers", [])
            return found[0] if found else None
        return None

    def load_balancer_by_dns(self, dns_name: str) -> dict[str, Any] | None:
        """The load balancer whose DNSName is ``dns_name`` (case-insensitive, as DNS is); None if absent."""
        wanted = dns_name.lower().rstrip(".")
        for lb in paginate(self.c, "describe_load_balancers", "LoadBalancers"):
            if str(lb.get("DNSName", "")).lower() == wanted:
                return dict(lb)
        return None

    def create_load_balancer(self, name: str, subnets: list[str], security_groups: list[str],
                             tags: dict[str, str], *, internal: bool = False) -> dict[str, Any]:
        return create_or_adopt(
            lambda: dict(call(self.once.create_load_balancer, "elbv2:CreateLoadBalancer", Name=name, Subnets=subnets,
                              SecurityGroups=security_groups, Scheme="internal" if internal else "internet-facing",
                              Type="application", IpAddressType="ipv4", Tags=tag_list(tags))["LoadBalancers"][0]),
            lambda: self.find_load_balancer(name), "elbv2:CreateLoadBalancer", exists=("DuplicateLoadBalancerName",))

    def set_security_groups(self, lb_arn: str, groups: list[str]) -> None:
        call(self.c.set_security_groups, "elbv2:SetSecurityGroups", LoadBalancerArn=lb_arn,
             SecurityGroups=groups)

    def set_subnets(self, lb_arn: str, subnets: list[str]) -> None:
        call(self.c.set_subnets, "elbv2:SetSubnets", LoadBalancerArn=lb_arn, Subnets=subnets)

    def delete_load_balancer(self, arn: str) -> None:
        with ignoring("LoadBalancerNotFound"):
            call(self.c.delete_load_balancer, "elbv2:DeleteLoadBalancer", LoadBalancerArn=arn)

    def load_balancer_attributes(self, arn: str) -> dict[str, str]:
        attrs = call(self.c.describe_load_balancer_attributes, "elbv2:DescribeLoadBalancerAttributes",
                     LoadBalancerArn=arn)["Attributes"]
        return {str(a["Key"]): str(a["Value"]) for a in attrs}

    def set_load_balancer_attributes(self, arn: str, attributes: dict[str, str]) -> None:
        call(self.c.modify_load_balancer_attributes, "elbv2:ModifyLoadBalancerAttributes", LoadBalancerArn=arn,
             Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())])

    def tags(self, arn: str) -> dict[str, str]:
        desc = call(self.c.describe_tags, "elbv2:DescribeTags", ResourceArns=[arn])["TagDescriptions"]
        return tags_dict(desc[0].get("Tags")) if desc else {}

    # -- target groups -----------------------------------------------------------------
    def find_target_group(self, name: str) -> dict[str, Any] | None:
        with ignoring("TargetGroupNotFound"):
            tgs = call(self.c.describe_target_groups, "elbv2:DescribeTargetGroups", Names=[name])
            found = tgs.get("TargetGroups", [])
            return found[0] if found else None
        return None

    def target_group_vpcs(self, arns: list[str]) -> dict[str, str]:
        """The VPC of each of ``arns`` that exists (one that does not is left out)."""
        found: dict[str, str] = {}
        for arn in arns:
            with ignoring("TargetGroupNotFound", "ValidationError"):
                for tg in call(self.c.describe_target_groups, "elbv2:DescribeTargetGroups",
                               TargetGroupArns=[arn]).get("TargetGroups", []):
                    found[tg["TargetGroupArn"]] = tg.get("VpcId", "")
        return found

    def create_target_group(self, name: str, vpc_id: str, port: int, health: dict[str, Any],
                            tags: dict[str, str]) -> dict[str, Any]:
        return create_or_adopt(
            lambda: dict(call(self.once.create_target_group, "elbv2:CreateTargetGroup", Name=name, Protocol="HTTP",
                              Port=port, VpcId=vpc_id, TargetType="ip", Tags=tag_list(tags),
                              **health)["TargetGroups"][0]),
            lambda: self.find_target_group(name), "elbv2:CreateTargetGroup", exists=("DuplicateTargetGroupName",))

    def modify_target_group(self, arn: str, health: dict[str, Any]) -> None:
        call(self.c.modify_target_group, "elbv2:ModifyTargetGroup", TargetGroupArn=arn, **health)

    def target_group_attributes(self, arn: str) -> dict[str, str]:
        attrs = call(self.c.describe_target_group_attributes, "elbv2:DescribeTargetGroupAttributes",
                     TargetGroupArn=arn)["Attributes"]
        return {str(a["Key"]): str(a["Value"]) for a in attrs}

    def set_target_group_attributes(self, arn: str, attributes: dict[str, str]) -> None:
        call(self.c.modify_target_group_attributes, "elbv2:ModifyTargetGroupAttributes", TargetGroupArn=arn,
             Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())])

    def target_health(self, tg_arn: str) -> list[dict[str, Any]]:
        return list(call(self.c.describe_target_health, "elbv2:DescribeTargetHealth",
                         TargetGroupArn=tg_arn)["TargetHealthDescriptions"])

    def delete_target_group(self, arn: str) -> None:
        with ignoring("TargetGroupNotFound"):
            call(self.c.delete_target_group, "elbv2:DeleteTargetGroup", TargetGroupArn=arn)

    # -- listeners and rules -----------------------------------------------------------
    def listeners(self, lb_arn: str) -> list[dict[str, Any]]:
        return list(paginate(self.c, "describe_listeners", "Listeners", LoadBalancerArn=lb_arn))

    def create_listener(self, lb_arn: str, port: int, default_actions: list[dict[str, Any]],
                        tags: dict[str, str], *, protocol: str = "HTTP",
                        certificate_arn: str | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"LoadBalancerArn": lb_arn, "Protocol": protocol, "Port": port,
                                  "DefaultActions": default_actions, "Tags": tag_list(tags)}
        if certificate_arn:
            kwargs["Certificates"] = [{"CertificateArn": certificate_arn}]
            kwargs["SslPolicy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
        def find() -> dict[str, Any] | None:
            return next((dict(li) for li in self.listeners(lb_arn) if li.get("Port") == port), None)

        return create_or_adopt(
            lambda: dict(call(self.once.create_listener, "elbv2:CreateListener", **kwargs)["Listeners"][0]),
            find, "elbv2:CreateListener", exists=("DuplicateListener",))

    def modify_listener_default(self, listener_arn: str, default_actions: list[dict[str, Any]]) -> None:
        call(self.c.modify_listener, "elbv2:ModifyListener", ListenerArn=listener_arn,
             DefaultActions=default_actions)

    def set_default_certificate(self, listener_arn: str, certificate_arn: str) -> None:
        call(self.c.modify_listener, "elbv2:ModifyListener", ListenerArn=listener_arn,
             Certificates=[{"CertificateArn": certificate_arn}])

    def delete_listener(self, listener_arn: str) -> None:
        with ignoring("ListenerNotFound"):
            call(self.c.delete_listener, "elbv2:DeleteListener", ListenerArn=listener_arn)

    def rules(self, listener_arn: str) -> list[dict[str, Any]]:
        return list(call(self.c.describe_rules, "elbv2:DescribeRules", ListenerArn=listener_arn)["Rules"])

    def create_rule(self, listener_arn: str, priority: int, conditions: list[dict[str, Any]],
                    actions: list[dict[str, Any]], tags: dict[str, str]) -> str:
        def find() -> str | None:
            return next((str(r["RuleArn"]) for r in self.rules(listener_arn) if str(r.get("Priority")) == str(priority)),
                        None)

        return create_or_adopt(
            lambda: str(call(self.once.create_rule, "elbv2:CreateRule", ListenerArn=listener_arn, Priority=priority,
                             Conditions=conditions, Actions=actions, Tags=tag_list(tags))["Rules"][0]["RuleArn"]),
            find, "elbv2:CreateRule", exists=("PriorityInUse",))

    def modify_rule(self, rule_arn: str, conditions: list[dict[str, Any]], actions: list[dict[str, Any]]) -> None:
        call(self.c.modify_rule, "elbv2:ModifyRule", RuleArn=rule_arn, Conditions=conditions, Actions=actions)

    def delete_rule(self, rule_arn: str) -> None:
        with ignoring("RuleNotFound"):
            call(self.c.delete_rule, "elbv2:DeleteRule", RuleArn=rule_arn)

    # -- HTTPS listeners and their certificates (SNI) ------------------------------------
    def listener_on_port(self, lb_arn: str, port: int) -> dict[str, Any] | None:
        return next((lst for lst in self.listeners(lb_arn) if int(lst["Port"]) == port), None)

    def listener_certificates(self, listener_arn: str) -> list[str]:
        """Every certificate ARN on the listener (the default one included)."""
        resp = call(self.c.describe_listener_certificates, "elbv2:DescribeListenerCertificates",
                    ListenerArn=listener_arn)
        return [str(c["CertificateArn"]) for c in resp.get("Certificates", [])]

    def add_listener_certificate(self, listener_arn: str, certificate_arn: str) -> None:
        call(self.c.add_listener_certificates, "elbv2:AddListenerCertificates", ListenerArn=listener_arn,
             Certificates=[{"CertificateArn": certificate_arn}])

    def remove_listener_certificate(self, listener_arn: str, certificate_arn: str) -> None:
        with ignoring("ListenerNotFound", "CertificateNotFound"):
            call(self.c.remove_listener_certificates, "elbv2:RemoveListenerCertificates",
                 ListenerArn=listener_arn, Certificates=[{"CertificateArn": certificate_arn}])

    def add_tags(self, arn: str, tags: dict[str, str]) -> None:
        call(self.c.add_tags, "elbv2:AddTags", ResourceArns=[arn], Tags=tag_list(tags))
