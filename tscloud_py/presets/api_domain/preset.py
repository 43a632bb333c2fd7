"""api-domain: a custom domain for an existing API Gateway API (REST or HTTP) or an existing ALB.

Steps (API Gateway): certificate -> domain (regional domain name) -> mapping -> dns.
Steps (ALB): certificate -> listener (HTTPS:443 with the certificate, HTTP:80 redirect) -> dns.

The certificate lives in the API's region (regional endpoints and ALB
listeners need it there) and is validated through the [dns] provider. The
final record is a CNAME at that provider pointing at the regional target; a
Route53 record (an alias A) is written only when dns.provider = "route53".
"""

from __future__ import annotations

from typing import Any

from tscloud_py.config.tables.api_domain import ApiDomainConfig
from tscloud_py.engine.step import Outputs, Step
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.api_domain.steps import (
    AlbHttpsStep,
    ApiFlavor,
    ApiGatewayDomainStep,
    ApiMappingStep,
)


class ApiDomain(Preset):

    @property
    def table(self) -> ApiDomainConfig:
        assert self.config.api_domain is not None  # the loader requires [api_domain] for this preset
        return self.config.api_domain

    def preflight(self) -> None:
        """The API or the load balancer must exist (else the certificate would be requested for nothing); a
        REST API's base path mapping takes one path segment (API Gateway's CreateBasePathMapping rejects a
        '/'; multi-level paths are API mappings of the V2 API)."""
        table = self.table
        self.check_dns(table.domain)
        if table.load_balancer:
            from tscloud_py.aws.elbv2 import Elbv2

            if Elbv2(self.aws, self.config.region).find_load_balancer(table.load_balancer) is None:
                raise ConfigError(self.config.path, "api_domain.load_balancer",
                                  f"no load balancer {table.load_balancer!r} in {self.config.region}",
                                  "check the name with `aws elbv2 describe-load-balancers`")
        if not table.api_id:
            return
        from tscloud_py.aws.apigateway import ApiGateway

        flavor = ApiFlavor(ApiGateway(self.aws, self.config.region), table.api_id).get()
        path = table.base_path.strip("/")
        if flavor == "rest" and "/" in path:
            raise ConfigError(self.config.path, "api_domain.base_path",
                              f"expected one path segment for REST API {table.api_id} (like v1), got '{path}'",
                              "map the API at a single segment; multi-level paths are for HTTP APIs")

    def steps(self) -> list[Step]:
        from tscloud_py.aws.acm import Acm
        from tscloud_py.dns import get_provider
        from tscloud_py.presets.steps.common import CertificateStep, DnsRecordStep

        config, table, names = self.config, self.table, self.names
        provider = get_provider(config.dns, self.aws)
        region = config.region
        certificate = CertificateStep("certificate", Acm(self.aws, region), provider, [table.domain], names)
        steps: list[Step] = [certificate]
        target: ApiGatewayDomainStep | AlbHttpsStep
        if table.api_id:
            from tscloud_py.aws.apigateway import ApiGateway

            apigw = ApiGateway(self.aws, region)
            flavor = ApiFlavor(apigw, table.api_id)
            target = ApiGatewayDomainStep("domain", apigw, flavor, table.domain, names,
                                          certificate_arn=certificate.output("certificate_arn"),
                                          needs=["certificate"])
            steps += [
                target,
                # after the domain name, which the mapping is made on (it reads none of its outputs)
                ApiMappingStep("mapping", apigw, flavor, table.domain, table.api_id, api_stage=table.stage,
                               base_path=table.base_path, needs=["domain"]),
            ]
        else:
            from tscloud_py.aws.elbv2 import Elbv2

            assert table.load_balancer is not None
            target = AlbHttpsStep("listener", Elbv2(self.aws, region), table.load_balancer, names,
                                  certificate_arn=certificate.output("certificate_arn"), needs=["certificate"])
            steps.append(target)
        route53 = config.dns.provider == "route53"
        steps.append(DnsRecordStep("dns", provider, table.domain, target.output("target"),
                                   record_type="ALIAS" if route53 else "CNAME",
                                   alias_zone_id=target.output("target_zone_id") if route53 else None,
                                   needs=[target.id]))
        return steps

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        table = self.table
        target_step = "domain" if table.api_id else "listener"
        path = table.base_path.strip("/")
        return {
            "domain": table.domain,
            "url": f"https://{table.domain}/{path}" if path else f"https://{table.domain}",
            "target": step_outputs[target_step]["target"],
            "certificate_arn": step_outputs["certificate"]["certificate_arn"],
            "dns_provider": self.config.dns.provider,
            "dns_record": f"{step_outputs['dns']['type']} {step_outputs['dns']['name']} -> "
                          f"{step_outputs['dns']['value']}",
        }
