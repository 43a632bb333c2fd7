"""Where moto is wrong (not just lax), make it behave like AWS for the tests that need it."""

from __future__ import annotations

from typing import Any

import pytest


def aws_like_base_path_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2 raises KeyError (HTTP 500) listing the base path mappings of a domain name that has
    none yet; AWS returns an empty list. Patch the backend class (in-process and the moto server alike)."""
    from moto.apigateway.exceptions import BasePathNotFoundException, DomainNameNotFound
    from moto.apigateway.models import APIGatewayBackend

    def get_all(self: Any, domain_name: str) -> list[Any]:
        if domain_name not in self.domain_names:
            raise DomainNameNotFound()
        return list(self.base_path_mappings.get(domain_name, {}).values())

    def get_one(self: Any, domain_name: str, base_path: str) -> Any:
        if domain_name not in self.domain_names:
            raise DomainNameNotFound()
        if base_path not in self.base_path_mappings.get(domain_name, {}):
            raise BasePathNotFoundException()
        return self.base_path_mappings[domain_name][base_path]

    monkeypatch.setattr(APIGatewayBackend, "get_base_path_mappings", get_all)
    monkeypatch.setattr(APIGatewayBackend, "get_base_path_mapping", get_one)


def aws_like_v2_domain_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS fills each REGIONAL configuration of an apigatewayv2 domain name with the regional target
    (apiGatewayDomainName, hostedZoneId, domainNameStatus on the wire); moto 5.2 echoes the request."""
    import hashlib

    from moto.apigatewayv2.models import DomainName

    original = DomainName.__init__

    def init(self: Any, domain_name: str, domain_name_configurations: list[dict[str, str]], *args: Any,
             **kwargs: Any) -> None:
        original(self, domain_name, domain_name_configurations, *args, **kwargs)
        region = self.domain_name_arn.split(":")[3]
        suffix = hashlib.sha256(domain_name.encode()).hexdigest()[:10]
        for conf in self.domain_name_configurations:
            conf.setdefault("apiGatewayDomainName", f"d-{suffix}.execute-api.{region}.amazonaws.com")
            conf.setdefault("hostedZoneId", "ZLY8HYME6SFDD")
            conf.setdefault("domainNameStatus", "AVAILABLE")

    monkeypatch.setattr(DomainName, "__init__", init)
