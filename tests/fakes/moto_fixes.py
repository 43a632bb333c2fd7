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
