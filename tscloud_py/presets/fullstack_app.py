"""fullstack-app: a container API on ECS Fargate behind an ALB, with RDS, Redis, SQS, SES and schedules,
attached as ``/api/*`` to an existing CloudFront distribution (or to the one a [site] table creates).

The step graph (independent steps run in parallel):

    network -> security-groups -> database, cache            (slow: minutes)
    queue, image, logs, mail, origin-secret                  (no needs)
    network, security-groups, origin-secret -> load-balancer
    logs, image, database, cache, queue, mail -> roles -> api-task-definition
    cluster, api-task-definition, load-balancer -> service -> autoscaling
    load-balancer, origin-secret [, distribution] -> attach
    cluster, api-task-definition, roles -> schedules

The service waits only for what it reads; attaching to CloudFront waits only for the ALB.
"""

from __future__ import annotations

from typing import Any

from tscloud_py.engine.step import Outputs, Step
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.fullstack.common import Env
from tscloud_py.presets.fullstack.data import CacheStep, DatabaseStep, QueueStep
from tscloud_py.presets.fullstack.edge import AttachStep, LoadBalancerStep, OriginSecretStep
from tscloud_py.presets.fullstack.image import ImageStep
from tscloud_py.presets.fullstack.network import NAT_MONTHLY_USD, NetworkStep, SecurityGroupsStep
from tscloud_py.presets.fullstack.rollout import ServiceStep
from tscloud_py.presets.fullstack.scaling import AutoscalingStep, SchedulesStep
from tscloud_py.presets.fullstack.service import (
    ClusterStep,
    LogGroupStep,
    RolesStep,
    TaskDefinitionStep,
)


class FullstackApp(Preset):
    name = "fullstack-app"

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

    def plan_extras(self) -> dict[str, Any]:
        net = self.config.network
        if net is not None and net.vpc == "new" and net.nat_gateway:
            return {"costs": {"nat_gateway_monthly_usd": NAT_MONTHLY_USD,
                              "note": "one NAT gateway, 730 h, before data processing ($0.045/GB)"}}
        return {}

    def steps(self) -> list[Step]:
        cfg = self.config
        env = Env(cfg, self.aws, self.options)
        steps: list[Step] = [NetworkStep(env), SecurityGroupsStep(env)]
        data_needs: list[str] = []
        if cfg.database is not None:
            steps.append(DatabaseStep(env))
            data_needs.append("database")
        if cfg.cache is not None:
            steps.append(CacheStep(env))
            data_needs.append("cache")
        if cfg.queue is not None:
            steps.append(QueueStep(env))
            data_needs.append("queue")
        steps += [ImageStep(env), LogGroupStep(env)]
        role_needs = ["logs", "image", *data_needs]
        if cfg.mail is not None:
            from tscloud_py.presets.fullstack.mail import MailStep

            steps.append(MailStep(env))
            role_needs.append("mail")
        distribution_step = None
        if cfg.site is not None:
            from tscloud_py.presets.static_site import site_steps

            steps += site_steps(self, cfg.site)
            distribution_step = "distribution"
        if self.attached:
            steps.append(OriginSecretStep(env))
        certificate_step = dns_step = None
        if cfg.api is not None and cfg.api.domain:
            from tscloud_py.aws.acm import Acm
            from tscloud_py.dns import get_provider
            from tscloud_py.presets.common_steps import CertificateStep, DnsRecordStep

            provider = get_provider(cfg.dns, self.aws)
            certificate_step, dns_step = "api-certificate", "api-dns"
            steps.append(CertificateStep(certificate_step, Acm(self.aws, self.aws.region), provider, [cfg.api.domain],
                                         app=cfg.app, stage=cfg.stage))
            steps.append(DnsRecordStep(dns_step, provider, cfg.api.domain, ("load-balancer", "dns_name"),
                                       record_type="ALIAS", alias_zone_id=("load-balancer", "zone_id"),
                                       needs=("load-balancer",)))
        steps.append(LoadBalancerStep(env, verify=self.attached, certificate_step=certificate_step))
        steps.append(RolesStep(env, tuple(role_needs)))
        td_needs = ("roles", "logs", "image", *data_needs)
        steps += [TaskDefinitionStep(env, "api", td_needs), ClusterStep(env), ServiceStep(env, "api", with_lb=True)]
        if self.worker_service:
            steps += [TaskDefinitionStep(env, "worker", td_needs), ServiceStep(env, "worker", with_lb=False)]
        steps.append(AutoscalingStep(env, worker=self.worker_service))
        if cfg.schedules:
            steps.append(SchedulesStep(env))
        if self.attached:
            steps.append(AttachStep(env, distribution_step=distribution_step,
                                    distribution_id=cfg.frontend.distribution_id if cfg.frontend else None,
                                    path=cfg.frontend.path if cfg.frontend else "/api/*", dns_step=dns_step))
        return steps

    def env(self) -> Env:
        return Env(self.config, self.aws, self.options)

    def live_status(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        from tscloud_py.presets.fullstack.operate import live_status

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
        out["log_group"] = step_outputs["logs"]["group"]
        return out
