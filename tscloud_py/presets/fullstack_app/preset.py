"""fullstack-app: a container API on ECS Fargate behind an ALB, with RDS, Redis, SQS, SES and schedules,
attached as ``/api/*`` to an existing CloudFront distribution (or to the one a [site] table creates).

``steps()`` is the graph: each step with its id and what it needs. Independent steps run in parallel;
the service waits only for what it reads, attaching to CloudFront only for the ALB.
"""

from __future__ import annotations

from typing import Any

from tscloud_py.engine.step import Outputs, Step
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.fullstack_app.common import Env
from tscloud_py.presets.fullstack_app.data import CacheStep, DatabaseStep, QueueStep
from tscloud_py.presets.fullstack_app.image import ImageStep
from tscloud_py.presets.fullstack_app.load_balancer import (
    AttachStep,
    LoadBalancerStep,
    OriginSecretStep,
)
from tscloud_py.presets.fullstack_app.mail import MailStep
from tscloud_py.presets.fullstack_app.network import (
    NAT_MONTHLY_USD,
    NetworkStep,
    SecurityGroupsStep,
)
from tscloud_py.presets.fullstack_app.rollout import ServiceStep
from tscloud_py.presets.fullstack_app.scaling import AutoscalingStep, SchedulesStep
from tscloud_py.presets.fullstack_app.service import ClusterStep, RolesStep, TaskDefinitionStep
from tscloud_py.presets.steps.common import LogGroupStep


class FullstackApp(Preset):

    @property
    def worker_service(self) -> bool:
        q = self.config.queue
        return q is not None and q.worker == "service"

    @property
    def attached(self) -> bool:
        return self.config.frontend is not None or self.config.site is not None

    def validate(self) -> None:
        api = self.config.api
        assert api is not None
        if api.build is not None:
            context = (self.config.base_dir / api.build.context).resolve()
            if not context.is_dir():
                raise ConfigError(self.config.path, "api.build.context", f"{context} is not a directory")
            if not (context / api.build.dockerfile).is_file():
                raise ConfigError(self.config.path, "api.build.dockerfile", f"{context / api.build.dockerfile} "
                                  "not found")
        site = self.config.site
        if site is not None:
            self.check_published("site", "dir", site.dir, allow_outside=site.allow_outside, include=site.include)
        if site is not None and not site.resolved_dir(self.config.base_dir).is_dir():
            raise ConfigError(self.config.path, "site.dir", "the site directory does not exist; build it first")

    def preflight(self) -> None:
        from tscloud_py.aws.ssm import Ssm
        from tscloud_py.presets.fullstack_app.service import resolve_secret_refs

        env = self.env()
        assert self.config.api is not None
        secrets = self.config.api.secrets
        # names must resolve to a secret (raises naming the key); ARNs and parameters must exist
        for var, ref in resolve_secret_refs(env).items():
            key = f"api.secrets.{var}"
            if ref["kind"] == "ssm":
                name = "/" + ref["resource"].split(":parameter/", 1)[1].lstrip("/")
                if Ssm(self.aws).parameter(name) is None:
                    raise ConfigError(self.config.path, key, f"no SSM parameter {name} in {env.region}",
                                      "create it first (aws ssm put-parameter --type SecureString)")
            elif secrets[var].startswith("arn:") and env.secrets.describe(ref["resource"]) is None:
                raise ConfigError(self.config.path, key, f"no Secrets Manager secret {ref['resource']}",
                                  "create it first, or fix the ARN")

    def plan_extras(self) -> dict[str, Any]:
        net = self.config.network
        if net is not None and net.vpc == "new" and net.nat_gateway:
            return {"costs": {"nat_gateway_monthly_usd": NAT_MONTHLY_USD,
                              "note": "one NAT gateway, 730 h, before data processing ($0.045/GB)"}}
        return {}

    def steps(self) -> list[Step]:
        cfg = self.config
        env = self.env()
        api = cfg.api
        assert api is not None
        database, cache, queue, mail = (cfg.database is not None, cfg.cache is not None, cfg.queue is not None,
                                        cfg.mail is not None)
        data = (*(("database",) if database else ()), *(("cache",) if cache else ()), *(("queue",) if queue else ()))
        site = cfg.site is not None
        https = bool(api.domain)
        placement = ("network", "security-groups")  # where a task or a data store runs
        steps: list[Step] = [
            NetworkStep("network", env),
            SecurityGroupsStep("security-groups", env, needs=("network",)),
            *([DatabaseStep("database", env, needs=placement)] if database else []),
            *([CacheStep("cache", env, needs=placement)] if cache else []),
            *([QueueStep("queue", env)] if queue else []),
            ImageStep("image", env),
            LogGroupStep("logs", env.logs, self.names.log_group(), api.log_retention_days, self.names),
            *([MailStep("mail", env)] if mail else []),
        ]
        if site:
            assert cfg.site is not None
            from tscloud_py.presets.static_site import site_steps

            steps += site_steps(self, cfg.site)
        if self.attached:
            steps.append(OriginSecretStep("origin-secret", env))
        load_balancer = LoadBalancerStep("load-balancer", env, verify=self.attached,
                                         certificate_step="api-certificate" if https else None,
                                         needs=(*placement, *(("origin-secret",) if self.attached else ()),
                                                *(("api-certificate",) if https else ())))
        if https:
            steps += self._api_domain_steps(load_balancer)
        steps += [
            load_balancer,
            RolesStep("roles", env, needs=("logs", "image", *data, *(("mail",) if mail else ()))),
            TaskDefinitionStep("api-task-definition", env, role="api", needs=("roles", "logs", "image", *data)),
            ClusterStep("cluster", env),
            ServiceStep("service", env, role="api", task_definition_step="api-task-definition", with_lb=True,
                        needs=("cluster", "api-task-definition", *placement, "load-balancer")),
        ]
        if self.worker_service:
            steps += [
                TaskDefinitionStep("worker-task-definition", env, role="worker",
                                   needs=("roles", "logs", "image", *data)),
                ServiceStep("worker-service", env, role="worker", task_definition_step="worker-task-definition",
                            with_lb=False, needs=("cluster", "worker-task-definition", *placement)),
            ]
        steps.append(AutoscalingStep("autoscaling", env, worker=self.worker_service,
                                     needs=("service", "cluster",
                                            *(("worker-service", "queue") if self.worker_service else ()))))
        if cfg.schedules:
            steps.append(SchedulesStep("schedules", env,
                                       needs=("cluster", "api-task-definition", "roles", *placement)))
        if self.attached:
            steps.append(AttachStep("attach", env, distribution_step="distribution" if site else None,
                                    distribution_id=cfg.frontend.distribution_id if cfg.frontend else None,
                                    path=cfg.frontend.path if cfg.frontend else "/api/*",
                                    dns_step="api-dns" if https else None,
                                    needs=("load-balancer", "origin-secret", *(("distribution",) if site else ()),
                                           *(("api-dns",) if https else ()))))
        return steps

    def _api_domain_steps(self, load_balancer: LoadBalancerStep) -> list[Step]:
        """[api] domain: a certificate in the API's region, and the name pointed at the ALB."""
        from tscloud_py.aws.acm import Acm
        from tscloud_py.dns import get_provider
        from tscloud_py.presets.steps.common import CertificateStep, DnsRecordStep

        cfg = self.config
        assert cfg.api is not None and cfg.api.domain
        provider = get_provider(cfg.dns, self.aws)
        return [
            CertificateStep("api-certificate", Acm(self.aws, self.aws.region), provider, [cfg.api.domain],
                            self.names),
            DnsRecordStep("api-dns", provider, cfg.api.domain, load_balancer.output("dns_name"), record_type="ALIAS",
                          alias_zone_id=load_balancer.output("zone_id"), needs=("load-balancer",)),
        ]

    def env(self) -> Env:
        return Env(self.config, self.aws, self.options)

    def live_status(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        from tscloud_py.presets.fullstack_app.operate import live_status

        return live_status(self.env(), step_outputs)

    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        lb = step_outputs["load-balancer"]
        out: dict[str, Any] = {
            "service": step_outputs["service"]["service"],
            "cluster": step_outputs["service"]["cluster"],
            "load_balancer_dns": lb["dns_name"],
            "image": step_outputs["image"]["image"],
        }
        if "database" in step_outputs:
            out["database_endpoint"] = step_outputs["database"]["endpoint"]
            out["database_secret_arn"] = step_outputs["database"]["secret_arn"]
        if "cache" in step_outputs:
            out["redis_endpoint"] = step_outputs["cache"]["endpoint"]
            out["redis_auth_secret_arn"] = step_outputs["cache"]["auth_secret_arn"]
        if "queue" in step_outputs:
            out["queue_url"] = step_outputs["queue"]["queue_url"]
            out["dlq_url"] = step_outputs["queue"]["dlq_url"]
        if "worker-service" in step_outputs:
            out["worker_service"] = step_outputs["worker-service"]["service"]
        if "distribution" in step_outputs:
            out["distribution_id"] = step_outputs["distribution"]["distribution_id"]
        if "attach" in step_outputs:
            out["url"] = step_outputs["attach"]["url"]
        elif "api-dns" in step_outputs and self.config.api is not None:
            out["url"] = f"https://{self.config.api.domain}/"
        else:
            out["url"] = f"http://{lb['dns_name']}/"
        out["log_group"] = step_outputs["logs"]["log_group"]
        return out
