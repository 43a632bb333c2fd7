"""API Gateway (REST and v2) domain names as AWS answers for them."""

from __future__ import annotations

import hashlib
from typing import Any


def apply() -> None:
    _empty_base_path_mappings()
    _integration_transfer_mode()
    _v2_domain_regional_targets()


def _empty_base_path_mappings() -> None:
    """AWS lists no base path mappings for a new domain name; moto 5.2 raises KeyError (HTTP 500)."""
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

    APIGatewayBackend.get_base_path_mappings = get_all  # type: ignore[method-assign]
    APIGatewayBackend.get_base_path_mapping = get_one  # type: ignore[method-assign]


def _v2_domain_regional_targets() -> None:
    """AWS fills each REGIONAL configuration of an apigatewayv2 domain name with its regional target
    (apiGatewayDomainName, hostedZoneId, domainNameStatus); moto 5.2 echoes the request."""
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

    DomainName.__init__ = init  # type: ignore[method-assign]


def _integration_transfer_mode() -> None:
    """AWS keeps a REST API integration's responseTransferMode (BUFFERED unless STREAM was asked for) and
    returns it from PutIntegration and GetIntegration; moto drops it."""
    import json

    from moto.apigateway.models import Integration
    from moto.apigateway.responses import APIGatewayResponse

    to_json = Integration.to_json

    def with_mode(self: Any) -> dict[str, Any]:
        return {**to_json(self), "responseTransferMode": getattr(self, "response_transfer_mode", "BUFFERED")}

    put = APIGatewayResponse.put_integration

    def put_integration(self: Any) -> Any:
        status, headers, _ = put(self)
        parts = self.path.split("/")
        integration = self.backend.get_integration(parts[2], parts[4], parts[6])
        integration.response_transfer_mode = self._get_param("responseTransferMode") or "BUFFERED"
        return status, headers, json.dumps(integration.to_json())

    Integration.to_json = with_mode  # type: ignore[method-assign]
    APIGatewayResponse.put_integration = put_integration  # type: ignore[method-assign]
