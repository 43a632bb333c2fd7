"""Elastic Load Balancing v2 (ALB): load balancers, listeners, listener certificates, redirects.

Thin: one method per API need. The api-domain preset uses the listener and
certificate functions; other presets extend this class with what they need.
"""

from __future__ import annotations

from typing import Any

from tscloud_py.aws.session import ClientFactory, call, ignoring, paginate

#: a current TLS policy (TLS 1.3 + 1.2)
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def redirect_to_https_action(port: int = 443) -> dict[str, Any]:
    """A listener default action that redirects to HTTPS with a 301, keeping host, path and query."""
    return {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": str(port), "Host": "#{host}",
                                                   "Path": "/#{path}", "Query": "#{query}",
                                                   "StatusCode": "HTTP_301"}}


def is_https_redirect(actions: list[dict[str, Any]]) -> bool:
    return any(a.get("Type") == "redirect" and a.get("RedirectConfig", {}).get("Protocol") == "HTTPS"
               for a in actions)


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class Elbv2:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.factory = factory
        self.region = region or factory.region

    @property
    def client(self) -> Any:
        return self.factory.client("elbv2", self.region)

    # -- load balancers ------------------------------------------------------------
    def find_load_balancer(self, name_or_arn: str) -> dict[str, Any] | None:
        """A load balancer by ARN or by name; None if it does not exist."""
        key = "LoadBalancerArns" if name_or_arn.startswith("arn:") else "Names"
        with ignoring("LoadBalancerNotFound", "LoadBalancerNotFoundException", "ValidationError"):
            found = call(self.client.describe_load_balancers, "elbv2:DescribeLoadBalancers", **{key: [name_or_arn]})
            lbs = found.get("LoadBalancers", [])
            return lbs[0] if lbs else None
        return None

    # -- listeners ---------------------------------------------------------------
    def listeners(self, lb_arn: str) -> list[dict[str, Any]]:
        return list(paginate(self.client, "describe_listeners", "Listeners", LoadBalancerArn=lb_arn))

    def listener_on_port(self, lb_arn: str, port: int) -> dict[str, Any] | None:
        return next((lst for lst in self.listeners(lb_arn) if int(lst["Port"]) == port), None)

    def create_listener(self, lb_arn: str, *, protocol: str, port: int, default_actions: list[dict[str, Any]],
                        certificate_arn: str | None = None, ssl_policy: str | None = None,
                        tags: dict[str, str] | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"LoadBalancerArn": lb_arn, "Protocol": protocol, "Port": port,
                                  "DefaultActions": default_actions}
        if certificate_arn:
            kwargs["Certificates"] = [{"CertificateArn": certificate_arn}]
            kwargs["SslPolicy"] = ssl_policy or DEFAULT_SSL_POLICY
        if tags:
            kwargs["Tags"] = tag_list(tags)
        listener: dict[str, Any] = call(self.client.create_listener, "elbv2:CreateListener", **kwargs)["Listeners"][0]
        return listener

    def set_default_actions(self, listener_arn: str, actions: list[dict[str, Any]]) -> None:
        call(self.client.modify_listener, "elbv2:ModifyListener", ListenerArn=listener_arn, DefaultActions=actions)

    def delete_listener(self, listener_arn: str) -> None:
        with ignoring("ListenerNotFound", "ListenerNotFoundException"):
            call(self.client.delete_listener, "elbv2:DeleteListener", ListenerArn=listener_arn)

    # -- listener certificates (SNI) -------------------------------------------------
    def listener_certificates(self, listener_arn: str) -> list[str]:
        """Every certificate ARN on the listener (the default one included)."""
        resp = call(self.client.describe_listener_certificates, "elbv2:DescribeListenerCertificates",
                    ListenerArn=listener_arn)
        return [c["CertificateArn"] for c in resp.get("Certificates", [])]

    def add_listener_certificate(self, listener_arn: str, certificate_arn: str) -> None:
        call(self.client.add_listener_certificates, "elbv2:AddListenerCertificates", ListenerArn=listener_arn,
             Certificates=[{"CertificateArn": certificate_arn}])

    def remove_listener_certificate(self, listener_arn: str, certificate_arn: str) -> None:
        with ignoring("ListenerNotFound", "CertificateNotFound"):
            call(self.client.remove_listener_certificates, "elbv2:RemoveListenerCertificates",
                 ListenerArn=listener_arn, Certificates=[{"CertificateArn": certificate_arn}])

    # -- tags ----------------------------------------------------------------------
    def tags(self, arn: str) -> dict[str, str]:
        resp = call(self.client.describe_tags, "elbv2:DescribeTags", ResourceArns=[arn])
        for desc in resp.get("TagDescriptions", []):
            if desc.get("ResourceArn") == arn:
                return {t["Key"]: t["Value"] for t in desc.get("Tags", [])}
        return {}

    def add_tags(self, arn: str, tags: dict[str, str]) -> None:
        call(self.client.add_tags, "elbv2:AddTags", ResourceArns=[arn], Tags=tag_list(tags))
