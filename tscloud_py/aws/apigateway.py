"""API Gateway: REST APIs (apigateway) and HTTP APIs (apigatewayv2) — custom domain names and mappings."""

from __future__ import annotations

from typing import Any

from tscloud_py.aws.retry import create_or_adopt
from tscloud_py.aws.session import ClientFactory, call, ignoring, paginate

SECURITY_POLICY = "TLS_1_2"


class ApiGateway:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.factory = factory
        self.region = region or factory.region

    @property
    def rest(self) -> Any:
        return self.factory.client("apigateway", self.region)

    @property
    def v2(self) -> Any:
        return self.factory.client("apigatewayv2", self.region)

    def _once(self, service: str = "apigateway") -> Any:
        """For creates: API Gateway has no client tokens, so a create goes out once and
        ``create_or_adopt`` looks for what a lost answer may have made before sending it again."""
        return self.factory.client(service, self.region, once=True)

    # -- APIs ----------------------------------------------------------------------
    def get_rest_api(self, api_id: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            api: dict[str, Any] = call(self.rest.get_rest_api, "apigateway:GetRestApi", restApiId=api_id)
            return api
        return None

    def get_http_api(self, api_id: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            api: dict[str, Any] = call(self.v2.get_api, "apigatewayv2:GetApi", ApiId=api_id)
            return api
        return None

    def rest_stages(self, api_id: str) -> list[str]:
        resp = call(self.rest.get_stages, "apigateway:GetStages", restApiId=api_id)
        return [str(s["stageName"]) for s in resp.get("item", [])]

    def http_stages(self, api_id: str) -> list[str]:
        resp = call(self.v2.get_stages, "apigatewayv2:GetStages", ApiId=api_id)
        return [str(s["StageName"]) for s in resp.get("Items", [])]

    # -- REST: regional custom domain names + base path mappings -----------------------
    def get_domain_name(self, domain: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            found: dict[str, Any] = call(self.rest.get_domain_name, "apigateway:GetDomainName", domainName=domain)
            return found
        return None

    def create_domain_name(self, domain: str, certificate_arn: str, tags: dict[str, str]) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            created: dict[str, Any] = call(
                self._once().create_domain_name, "apigateway:CreateDomainName", domainName=domain,
                regionalCertificateArn=certificate_arn, endpointConfiguration={"types": ["REGIONAL"]},
                securityPolicy=SECURITY_POLICY, tags=tags)
            return created

        return create_or_adopt(create, lambda: self.get_domain_name(domain), "apigateway:CreateDomainName",
                               exists=("ConflictException",))

    def set_domain_certificate(self, domain: str, certificate_arn: str) -> dict[str, Any]:
        updated: dict[str, Any] = call(
            self.rest.update_domain_name, "apigateway:UpdateDomainName", domainName=domain,
            patchOperations=[{"op": "replace", "path": "/regionalCertificateArn", "value": certificate_arn}])
        return updated

    def delete_domain_name(self, domain: str) -> None:
        with ignoring("NotFoundException"):
            call(self.rest.delete_domain_name, "apigateway:DeleteDomainName", domainName=domain)

    def base_path_mappings(self, domain: str) -> list[dict[str, Any]]:
        with ignoring("NotFoundException"):
            return list(paginate(self.rest, "get_base_path_mappings", "items", domainName=domain))
        return []

    def create_base_path_mapping(self, domain: str, api_id: str, stage: str, base_path: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"domainName": domain, "restApiId": api_id, "stage": stage}
        if base_path:
            kwargs["basePath"] = base_path
        def create() -> dict[str, Any]:
            created: dict[str, Any] = call(self._once().create_base_path_mapping,
                                           "apigateway:CreateBasePathMapping", **kwargs)
            return created

        def find() -> dict[str, Any] | None:
            wanted = base_path or "(none)"
            return next((m for m in self.base_path_mappings(domain) if m.get("basePath", "(none)") == wanted), None)

        return create_or_adopt(create, find, "apigateway:CreateBasePathMapping", exists=("ConflictException",))

    def delete_base_path_mapping(self, domain: str, base_path: str) -> None:
        with ignoring("NotFoundException"):
            call(self.rest.delete_base_path_mapping, "apigateway:DeleteBasePathMapping", domainName=domain,
                 basePath=base_path or "(none)")

    # -- HTTP APIs: regional custom domain names + API mappings ---------------------------
    def get_domain_name_v2(self, domain: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            found: dict[str, Any] = call(self.v2.get_domain_name, "apigatewayv2:GetDomainName", DomainName=domain)
            return found
        return None

    def create_domain_name_v2(self, domain: str, certificate_arn: str, tags: dict[str, str]) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            created: dict[str, Any] = call(
                self._once("apigatewayv2").create_domain_name, "apigatewayv2:CreateDomainName", DomainName=domain,
                DomainNameConfigurations=[{"CertificateArn": certificate_arn, "EndpointType": "REGIONAL",
                                           "SecurityPolicy": SECURITY_POLICY}], Tags=tags)
            return created

        return create_or_adopt(create, lambda: self.get_domain_name_v2(domain), "apigatewayv2:CreateDomainName",
                               exists=("ConflictException",))

    def set_domain_certificate_v2(self, domain: str, certificate_arn: str) -> dict[str, Any]:
        updated: dict[str, Any] = call(
            self.v2.update_domain_name, "apigatewayv2:UpdateDomainName", DomainName=domain,
            DomainNameConfigurations=[{"CertificateArn": certificate_arn, "EndpointType": "REGIONAL",
                                       "SecurityPolicy": SECURITY_POLICY}])
        return updated

    def delete_domain_name_v2(self, domain: str) -> None:
        with ignoring("NotFoundException"):
            call(self.v2.delete_domain_name, "apigatewayv2:DeleteDomainName", DomainName=domain)

    def api_mappings(self, domain: str) -> list[dict[str, Any]]:
        with ignoring("NotFoundException"):
            resp = call(self.v2.get_api_mappings, "apigatewayv2:GetApiMappings", DomainName=domain)
            return list(resp.get("Items", []))
        return []

    def create_api_mapping(self, domain: str, api_id: str, stage: str, key: str) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            created: dict[str, Any] = call(self._once("apigatewayv2").create_api_mapping,
                                           "apigatewayv2:CreateApiMapping", DomainName=domain, ApiId=api_id,
                                           Stage=stage, ApiMappingKey=key)
            return created

        def find() -> dict[str, Any] | None:
            return next((m for m in self.api_mappings(domain) if m.get("ApiMappingKey", "") == key), None)

        return create_or_adopt(create, find, "apigatewayv2:CreateApiMapping", exists=("ConflictException",))

    def delete_api_mapping(self, domain: str, mapping_id: str) -> None:
        with ignoring("NotFoundException"):
            call(self.v2.delete_api_mapping, "apigatewayv2:DeleteApiMapping", DomainName=domain,
                 ApiMappingId=mapping_id)

    # -- REST API with a Lambda proxy (an origin for a function behind CloudFront) --------------
    def find_rest_api(self, name: str) -> dict[str, Any] | None:
        """The REST API named ``name`` (our deterministic name), or None."""
        for api in paginate(self.rest, "get_rest_apis", "items"):
            if api.get("name") == name:
                return dict(api)
        return None

    def create_rest_api(self, name: str, tags: dict[str, str], description: str = "") -> dict[str, Any]:
        """Names are not unique in API Gateway, so a blind resend would make a second API: after a lost
        answer the API with this name and these tags is adopted instead."""
        def create() -> dict[str, Any]:
            created: dict[str, Any] = call(self._once().create_rest_api, "apigateway:CreateRestApi", name=name,
                                           description=description, endpointConfiguration={"types": ["REGIONAL"]},
                                           tags=tags)
            return created

        def find() -> dict[str, Any] | None:
            found = self.find_rest_api(name)
            theirs = (found or {}).get("tags") or {}
            return found if found and all(theirs.get(k) == v for k, v in tags.items()) else None

        return create_or_adopt(create, find, "apigateway:CreateRestApi")

    def delete_rest_api(self, api_id: str) -> None:
        with ignoring("NotFoundException"):
            call(self.rest.delete_rest_api, "apigateway:DeleteRestApi", restApiId=api_id)

    def resources(self, api_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in paginate(self.rest, "get_resources", "items", restApiId=api_id)]

    def create_resource(self, api_id: str, parent_id: str, path_part: str) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            created: dict[str, Any] = call(self._once().create_resource, "apigateway:CreateResource",
                                           restApiId=api_id, parentId=parent_id, pathPart=path_part)
            return created

        def find() -> dict[str, Any] | None:
            return next((r for r in self.resources(api_id)
                         if r.get("parentId") == parent_id and r.get("pathPart") == path_part), None)

        return create_or_adopt(create, find, "apigateway:CreateResource", exists=("ConflictException",))

    def get_method(self, api_id: str, resource_id: str, method: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            found: dict[str, Any] = call(self.rest.get_method, "apigateway:GetMethod", restApiId=api_id,
                                         resourceId=resource_id, httpMethod=method)
            return found
        return None

    def put_method(self, api_id: str, resource_id: str, method: str, authorization: str = "NONE") -> None:
        call(self.rest.put_method, "apigateway:PutMethod", restApiId=api_id, resourceId=resource_id,
             httpMethod=method, authorizationType=authorization)

    def get_integration(self, api_id: str, resource_id: str, method: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            found: dict[str, Any] = call(self.rest.get_integration, "apigateway:GetIntegration", restApiId=api_id,
                                         resourceId=resource_id, httpMethod=method)
            return found
        return None

    def put_lambda_proxy_integration(self, api_id: str, resource_id: str, method: str, uri: str, *,
                                     transfer_mode: str, timeout_ms: int = 29000) -> None:
        """AWS_PROXY to a Lambda ``uri``; ``transfer_mode`` STREAM needs the response-streaming URI."""
        call(self.rest.put_integration, "apigateway:PutIntegration", restApiId=api_id, resourceId=resource_id,
             httpMethod=method, type="AWS_PROXY", integrationHttpMethod="POST", uri=uri,
             responseTransferMode=transfer_mode, timeoutInMillis=timeout_ms)

    def create_deployment(self, api_id: str, stage: str, description: str = "") -> str:
        created = call(self.rest.create_deployment, "apigateway:CreateDeployment", restApiId=api_id,
                       stageName=stage, description=description)
        return str(created["id"])

    def get_stage(self, api_id: str, stage: str) -> dict[str, Any] | None:
        with ignoring("NotFoundException"):
            found: dict[str, Any] = call(self.rest.get_stage, "apigateway:GetStage", restApiId=api_id,
                                         stageName=stage)
            return found
        return None
