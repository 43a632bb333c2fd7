"""fullstack-app: a container API on ECS Fargate behind an ALB, with RDS, Redis, SQS, SES and schedules,
attached as ``/api/*`` to an existing CloudFront distribution (or to the one a [site] table creates).

``steps()`` is the graph, read top to bottom: each step with its id, the clients it calls, the steps
whose outputs it reads and what it needs. Independent steps run in parallel; the service waits only for
what it reads, attaching to CloudFront only for the ALB.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from tscloud_py.engine.step import Outputs, Step
from tscloud_py.errors import ConfigError
from tscloud_py.presets import Preset
from tscloud_py.presets.fullstack_app.common import worker_in_vpc
from tscloud_py.presets.fullstack_app.data import CacheStep, DatabaseStep, QueueStep
from tscloud_py.presets.fullstack_app.egress import (
    ENDPOINT_MONTHLY_USD,
    EndpointsStep,
    interface_services,
)
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
from tscloud_py.presets.fullstack_app.origin import (
    OriginChoice,
    ReplacedLoadBalancerStep,
    VpcOriginStep,
)
from tscloud_py.presets.fullstack_app.rollout import ServiceStep
from tscloud_py.presets.fullstack_app.scaling import AutoscalingStep, SchedulesStep
from tscloud_py.presets.fullstack_app.service import ClusterStep, RolesStep, TaskDefinitionStep
from tscloud_py.presets.steps.common import LogGroupStep
from tscloud_py.presets.steps.secrets import SecretReader

if TYPE_CHECKING:
    from tscloud_py.aws.waiters import ProgressCallback


class FullstackApp(Preset):

    @property
    def worker_service(self) -> bool:
        q = self.config.queue
        return q is not None and q.worker == "service"

    @property
    def attached(self) -> bool:
        return self.config.frontend is not None or self.config.site is not None

    @functools.cached_property
    def origin_choice(self) -> OriginChoice:
        from tscloud_py.aws.elbv2 import Elbv2

        return OriginChoice(self.config, Elbv2(self.aws), self.names)

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
        queue = self.config.queue
        if queue is not None and queue.worker == "lambda" and queue.worker_dir is not None:
            self.check_published("queue", "worker_dir", queue.worker_dir, allow_outside=False, private=False)
            if not (self.config.base_dir / queue.worker_dir).is_dir():
                raise ConfigError(self.config.path, "queue.worker_dir", f"{queue.worker_dir} is not a directory")
        site = self.config.site
        if site is not None:
            self.check_published("site", "dir", site.dir, allow_outside=site.allow_outside, include=site.include)
        if site is not None and not site.resolved_dir(self.config.base_dir).is_dir():
            raise ConfigError(self.config.path, "site.dir", "the site directory does not exist; build it first")

    def preflight(self) -> None:
        from tscloud_py.presets.steps.web_acl import check_frontend_web_acl

        assert self.config.api is not None
        self._check_origin()
        self._check_worker_network()
        check_frontend_web_acl(self.config, self.aws, self.names)
        for domain in (self.config.api.domain, self.config.mail.domain if self.config.mail else None):
            if domain:
                self.check_dns(domain)
                break
        self._check_engine_version()
        if self.config.api.build is not None:
            from tscloud_py.aws.ecr import Ecr

            if ImageStep("image", Ecr(self.aws), self.config, self.names).needs_build():
                from tscloud_py.build.docker_engine import check_reachable

                self.checks.append(check_reachable())
        self.check_secrets()

    def secret_readers(self) -> dict[str, SecretReader]:
        """The API's task definition, the worker's (the same secrets: the service's task definition, or the
        function that reads them at init) and the schedules (which run the API's task definition)."""
        api, queue = self.config.api, self.config.queue
        assert api is not None
        if not api.secrets:
            return {}
        reader = SecretReader("api.secrets", dict(api.secrets))
        readers = {"api-task-definition": reader}
        if self.worker_service:
            readers["worker-task-definition"] = reader
        if queue is not None and queue.worker == "lambda":
            readers["worker"] = reader
        if self.config.schedules:
            readers["schedules"] = reader
        return readers

    def refresh_secret_readers(self, step_ids: list[str], progress: ProgressCallback | None = None
                               ) -> tuple[list[dict[str, str]], list[str]]:
        """A new deployment of each service whose tasks read them, healthy before the old tasks stop, and
        the worker function pointed at their current versions (a configuration update, waited for); a
        schedule's next task reads the current value by itself."""
        from tscloud_py.aws.ecs import Ecs
        from tscloud_py.aws.elbv2 import Elbv2
        from tscloud_py.aws.lambda_ import Lambda
        from tscloud_py.presets.fullstack_app.operate import restart_service

        api = self.config.api
        assert api is not None
        roles = [role for role in ("api", "worker") if f"{role}-task-definition" in step_ids]
        ecs, elbv2 = Ecs(self.aws), Elbv2(self.aws)
        rolled, missing = [], []
        for role in roles:
            service = self.names.resource(role)
            deployment = restart_service(ecs, elbv2, self.names.prefix, service, timeout=api.rollout_timeout,
                                         progress=progress)
            if deployment is None:
                missing.append(service)
            else:
                rolled.append({"service": service, "deployment": deployment, "state": "steady"})
        secrets = self.function_secrets("worker") if "worker" in step_ids else None
        if secrets is not None:
            function = self.names.resource("worker", 64)
            state = secrets.refresh(Lambda(self.aws), function, progress=progress)
            if state is None:
                missing.append(function)
            else:
                rolled.append({"function": function, "state": state})
        return rolled, missing

    def _check_engine_version(self) -> None:
        """A version RDS does not offer fails CreateDBInstance after the network and subnet group were made:
        asked of DescribeDBEngineVersions first. A major version (postgres) stands for its newest minor."""
        db = self.config.database
        if db is None or db.version is None:
            return
        from tscloud_py.aws.rds import Rds

        offered = Rds(self.aws).engine_versions(db.engine)
        if db.version not in offered and not any(v.startswith(db.version + ".") for v in offered):
            newest = sorted(offered, key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")])[-3:]
            raise ConfigError(self.config.path, "database.version",
                              f"RDS offers no {db.engine} {db.version} in {self.names.region}",
                              f"pick one it offers (the newest: {', '.join(newest) or 'none'}), or leave it unset "
                              "for AWS's default")
        self.checks.append(f"database.version: RDS offers {db.engine} {db.version} in {self.names.region}")

    def plan_extras(self) -> dict[str, Any]:
        api, net = self.config.api, self.config.network
        assert api is not None
        vpc = self.attached and self.origin_choice.vpc
        if vpc and api.egress == "endpoints":
            count = len(interface_services(self.config))
            return {"costs": {"vpc_endpoints_monthly_usd": round(count * ENDPOINT_MONTHLY_USD, 2),
                              "note": f"{count} interface endpoints in two AZs, 730 h, before data processing "
                                      "($0.01/GB); the S3 gateway endpoint is free"}}
        if (vpc and api.egress == "nat") or (not vpc and net is not None and net.vpc == "new" and net.nat_gateway):
            return {"costs": {"nat_gateway_monthly_usd": NAT_MONTHLY_USD,
                              "note": "one NAT gateway, 730 h, before data processing ($0.045/GB)"}}
        return {}

    def _check_worker_network(self) -> None:
        """A Lambda worker in the VPC gets no public IP: it needs the stage's private subnets and their way out."""
        from tscloud_py.aws.ec2 import Ec2

        queue = self.config.queue
        if queue is None or queue.worker != "lambda":
            return
        if not worker_in_vpc(self.config):
            reach = " (it cannot reach the database or Redis)" if self.config.database or self.config.cache else ""
            self.checks.append(f"queue.worker_network = none: the worker function runs outside any VPC{reach}")
            return
        network = NetworkStep("network", Ec2(self.aws), self.config, self.names, choice=self.origin_choice)
        if not network.private_tier:
            raise ConfigError(self.config.path, "queue.worker_network",
                              "a worker function in the VPC needs private subnets with a way out (Lambda gives it "
                              "no public IP), and this stage's tasks run in public subnets",
                              "set [api] origin = \"vpc\", or [network] vpc = \"new\" with nat_gateway = true; "
                              "or worker_network = \"none\" if the worker needs neither the database nor Redis")
        way_out = "a NAT gateway" if network.nat else "the stage's VPC endpoints (AWS APIs only)"
        self.checks.append(f"queue.worker_network = vpc ({queue.worker_network}): the worker function runs in the "
                           f"private subnets with its own security group, which the database and Redis admit; it "
                           f"reaches AWS through {way_out}")

    def _check_origin(self) -> None:
        """What the plan says about how CloudFront reaches the API, and what that exposes."""
        api = self.config.api
        assert api is not None
        mode, why = self.origin_choice.decided()
        if mode == "vpc":
            hop = ("HTTPS to its port 443 listener (the certificate for api.domain)" if api.domain else
                   "HTTP to port 80, inside AWS's network (set api.domain for HTTPS)")
            self.checks.append(f"api.origin = vpc ({why}): an internal load balancer in private subnets, reached "
                               f"only through a CloudFront VPC origin over {hop}; no origin-verify header (nothing "
                               "else can reach the load balancer)")
            if api.egress == "endpoints":
                count = len(interface_services(self.config))
                self.checks.append(f"api.egress = endpoints: tasks in private subnets without public IPs reach ECR, "
                                   f"logs and Secrets Manager{', SQS' if self.config.queue else ''} through {count} "
                                   f"VPC interface endpoints (about ${count * ENDPOINT_MONTHLY_USD:.2f}/month) and an "
                                   "S3 gateway endpoint, and nothing else; egress = \"nat\" opens the internet "
                                   f"(about ${NAT_MONTHLY_USD}/month plus data)")
            else:
                self.checks.append(f"api.egress = nat: tasks in private subnets without public IPs go out through one "
                                   f"NAT gateway (about ${NAT_MONTHLY_USD}/month plus $0.045/GB)")
            replaced = self.origin_choice.replacing()
            if replaced:
                self.checks.append(f"api.origin public -> vpc, in this order: (1) a new internal load balancer "
                                   f"{self.origin_choice.lb_name()} and its target group; (2) a CloudFront VPC origin "
                                   f"for it; (3) the service's tasks, now in private subnets, registered in both "
                                   f"target groups; (4) the distribution's /api/* origin moved to the VPC origin; "
                                   f"(5) only then the public load balancer {replaced} deleted and its target group "
                                   "with it. /api/* has an origin that answers throughout")
            return
        if not self.attached:
            return
        if api.domain:
            self.checks.append(f"api.origin = public ({why}): CloudFront reaches the load balancer over HTTPS "
                               "(https-only, the certificate for api.domain)")
        else:
            self.checks.append(f"api.origin = public ({why}): CloudFront reaches the load balancer over plain HTTP, "
                               "so the origin-verify header crosses the internet in cleartext; api.domain makes "
                               "it HTTPS, and origin = \"vpc\" removes the exposure")

    def steps(self) -> list[Step]:
        from tscloud_py.aws.autoscaling import AutoScaling
        from tscloud_py.aws.ec2 import Ec2
        from tscloud_py.aws.ecr import Ecr
        from tscloud_py.aws.ecs import Ecs
        from tscloud_py.aws.elbv2 import Elbv2
        from tscloud_py.aws.iam import Iam
        from tscloud_py.aws.logs import Logs
        from tscloud_py.aws.secrets import Secrets

        cfg, aws, names = self.config, self.aws, self.names
        api = cfg.api
        assert api is not None
        account = aws.account_id
        ec2, ecs, elbv2, secrets = Ec2(aws), Ecs(aws), Elbv2(aws), Secrets(aws)
        snapshot = not self.options.no_snapshot

        choice = self.origin_choice
        network = NetworkStep("network", ec2, cfg, names, choice=choice)
        security_groups = SecurityGroupsStep("security-groups", ec2, cfg, names, needs=["network"], network=network,
                                             choice=choice)
        steps: list[Step] = [network, security_groups]
        if self.attached:
            steps.append(EndpointsStep("endpoints", ec2, cfg, names, needs=["network", "security-groups"],
                                       network=network, security_groups=security_groups, choice=choice))

        database = cache = queue = mail = None
        if cfg.database is not None:
            from tscloud_py.aws.rds import Rds

            database = DatabaseStep("database", Rds(aws), cfg, names, needs=["network", "security-groups"],
                                    network=network, security_groups=security_groups, no_snapshot=not snapshot)
            steps.append(database)
        if cfg.cache is not None:
            from tscloud_py.aws.elasticache import ElastiCache

            cache = CacheStep("cache", ElastiCache(aws), secrets, cfg, names, needs=["network", "security-groups"],
                              network=network, security_groups=security_groups, no_snapshot=not snapshot)
            steps.append(cache)
        if cfg.queue is not None:
            from tscloud_py.aws.sqs import Sqs

            queue = QueueStep("queue", Sqs(aws), cfg, names, account=account)
            steps.append(queue)
        image = ImageStep("image", Ecr(aws), cfg, names, verbose=self.options.verbose)
        logs = LogGroupStep("logs", Logs(aws), names.log_group(), api.log_retention_days, names)
        steps += [image, logs]
        if cfg.mail is not None:
            from tscloud_py.aws.ses import Ses
            from tscloud_py.dns import get_provider

            mail = MailStep("mail", Ses(aws), get_provider(cfg.dns, aws), cfg, names, account=account)
            steps.append(mail)

        distribution = None
        if cfg.site is not None:
            from tscloud_py.presets.static_site import site_steps

            site = site_steps(self, cfg.site)
            distribution = next(s for s in site if s.id == "distribution")
            steps += site
        origin_secret = None
        if self.attached:
            origin_secret = OriginSecretStep("origin-secret", secrets, cfg, names, choice=choice)
            steps.append(origin_secret)

        load_balancer_needs = ["network", "security-groups"]
        if origin_secret:
            load_balancer_needs.append("origin-secret")
        certificate = None
        if api.domain:
            load_balancer_needs.append("api-certificate")
            certificate = self._api_certificate()
            steps.append(certificate)
        load_balancer = LoadBalancerStep("load-balancer", elbv2, secrets, cfg, names, needs=load_balancer_needs,
                                         network=network, security_groups=security_groups,
                                         origin_secret=origin_secret, certificate=certificate, choice=choice)
        api_dns = None
        if api.domain:
            api_dns = self._api_dns(load_balancer)
            steps.append(api_dns)

        data_needs = [s.id for s in (database, cache, queue) if s is not None]
        roles_needs = ["logs", "image", *data_needs]
        if mail:
            roles_needs.append("mail")
        roles = RolesStep("roles", Iam(aws), secrets, cfg, names, account=account, needs=roles_needs, logs=logs,
                          image=image, database=database, cache=cache, queue=queue, mail=mail)
        task_definition = TaskDefinitionStep(
            "api-task-definition", ecs, cfg, names, role="api", needs=["roles", "logs", "image", *data_needs],
            image=image, logs=logs, roles=roles, database=database, cache=cache, queue=queue)
        cluster = ClusterStep("cluster", ecs, cfg, names)
        service_needs = ["cluster", "api-task-definition", "network", "security-groups", "load-balancer"]
        if self.attached:
            # after the endpoints: a task in a private subnet pulls its image through them
            service_needs.append("endpoints")
        service = ServiceStep(
            "service", ecs, elbv2, cfg, names, role="api", needs=service_needs,
            cluster=cluster, task_definition=task_definition, network=network, security_groups=security_groups,
            load_balancer=load_balancer)
        steps += [load_balancer, roles, task_definition, cluster, service]

        worker_service = None
        if self.worker_service:
            worker_definition = TaskDefinitionStep(
                "worker-task-definition", ecs, cfg, names, role="worker",
                needs=["roles", "logs", "image", *data_needs],
                image=image, logs=logs, roles=roles, database=database, cache=cache, queue=queue)
            worker_service = ServiceStep(
                "worker-service", ecs, elbv2, cfg, names, role="worker",
                needs=["cluster", "worker-task-definition", "network", "security-groups",
                       *(["endpoints"] if self.attached else [])],
                cluster=cluster, task_definition=worker_definition, network=network,
                security_groups=security_groups, load_balancer=None)
            steps += [worker_definition, worker_service]

        worker = invoker = None
        if cfg.queue is not None and cfg.queue.worker == "lambda":
            assert queue is not None
            made = self._lambda_worker(queue, network=network, security_groups=security_groups)
            worker = next(s for s in made if s.id == "worker")
            steps += made
            if any(s.target == "worker" for s in cfg.schedules):
                from tscloud_py.presets.fullstack_app.worker import InvokerRoleStep

                invoker = InvokerRoleStep("worker-invoker-role", Iam(aws), cfg, names, account=account,
                                          needs=["worker"], function_arn=worker.output("function_arn"))
                steps.append(invoker)

        autoscaling_needs = ["service", "cluster"]
        if worker_service:
            autoscaling_needs += ["worker-service", "queue"]
        steps.append(AutoscalingStep("autoscaling", AutoScaling(aws), cfg, names, needs=autoscaling_needs,
                                     cluster=cluster, service=service, worker_service=worker_service, queue=queue))
        if cfg.schedules:
            from tscloud_py.aws.scheduler import Scheduler

            schedules_needs = ["cluster", "api-task-definition", "roles", "network", "security-groups"]
            if invoker is not None:
                schedules_needs += ["worker", "worker-invoker-role"]
            steps.append(SchedulesStep(
                "schedules", Scheduler(aws), cfg, names, account=account, needs=schedules_needs,
                task_definition=task_definition, cluster=cluster, roles=roles, network=network,
                security_groups=security_groups, worker=worker if invoker else None, invoker_role=invoker))

        if origin_secret:
            from tscloud_py.aws.cloudfront.client import CloudFront

            cloudfront = CloudFront(aws)
            vpc_origin = VpcOriginStep("vpc-origin", cloudfront, cfg, names, needs=["load-balancer"],
                                       load_balancer=load_balancer, choice=choice)
            steps.append(vpc_origin)
            # after the service: the distribution moves to a load balancer whose targets serve
            attach_needs = ["load-balancer", "origin-secret", "vpc-origin", "service"]
            if distribution:
                attach_needs.append("distribution")
            if api_dns:
                # after the API's DNS name: CloudFront connects to it, and it must point at the ALB
                attach_needs.append("api-dns")
            steps.append(AttachStep(
                "attach", cloudfront, secrets, cfg, names, needs=attach_needs, load_balancer=load_balancer,
                origin_secret=origin_secret, vpc_origin=vpc_origin, distribution=distribution,
                distribution_id=cfg.frontend.distribution_id if cfg.frontend else None,
                path=cfg.frontend.path if cfg.frontend else "/api/*", choice=choice))
            steps.append(ReplacedLoadBalancerStep(
                "replaced-load-balancer", ecs, elbv2, cfg, names, needs=["attach", "load-balancer", "service"],
                load_balancer=load_balancer, service=service, choice=choice))
        steps += self._frontend_web_acl()
        return steps + self._alerts(load_balancer=load_balancer, service=service, worker_service=worker_service,
                                    worker=worker, database=database, cache=cache, queue=queue,
                                    distribution=distribution)

    def _lambda_worker(self, queue: Step, *, network: Step, security_groups: Step) -> list[Step]:
        """[queue] worker = "lambda": ssr-app's worker steps on this app's queue, with the Bun layer; in the
        VPC's private subnets with the worker group when it reaches the database or Redis."""
        from tscloud_py.aws.iam import Iam
        from tscloud_py.aws.lambda_ import Lambda
        from tscloud_py.aws.logs import Logs
        from tscloud_py.build.bun_layer import RUNTIME
        from tscloud_py.presets.fullstack_app.worker import BunLayerStep, worker_code
        from tscloud_py.presets.ssr_app.steps import FunctionNetwork, FunctionStep, ServerRoleStep
        from tscloud_py.presets.ssr_app.workers import EventSourceStep

        cfg, names = self.config, self.names
        q, api = cfg.queue, cfg.api
        assert q is not None and api is not None
        lam = Lambda(self.aws)
        name = names.resource("worker", 64)
        made: list[Step] = []
        layer = None
        function_needs = ["worker-role", "worker-logs"]
        if q.worker_runtime == "bun":
            layer = BunLayerStep("worker-layer", lam, cfg, names)
            made.append(layer)
            function_needs.append("worker-layer")
        logs = LogGroupStep("worker-logs", Logs(self.aws), names.function_log_group(name), api.log_retention_days,
                            names)
        secrets = self.function_secrets("worker")
        in_vpc = worker_in_vpc(cfg)
        role = ServerRoleStep("worker-role", Iam(self.aws), names.regional("worker"), [], names,
                              needs=["worker-logs", "queue"], log_group_arn=logs.output("log_group_arn"),
                              queue_arn=queue.output("queue_arn"), description=names.description("worker role"),
                              secrets=secrets, vpc=in_vpc)
        placed = None
        if in_vpc:
            placed = FunctionNetwork(network.output("task_subnets"), security_groups.output("worker_sg"))
            # after the endpoints too: a function in private subnets reads its secrets through them at init
            function_needs += ["network", "security-groups", *(["endpoints"] if self.attached else [])]
        function = FunctionStep(
            "worker", lam, name, worker_code(cfg, reads_secrets=secrets is not None), names,
            runtime=RUNTIME if layer else q.worker_runtime,
            handler=q.worker_handler, memory=q.worker_memory, timeout=q.worker_timeout,
            architecture=q.worker_architecture, environment=dict(api.environment), layers=[],
            role_arn=role.output("role_arn"), needs=function_needs, description="queue worker",
            layer=layer.output("layer_arn") if layer else None, secrets=secrets, network=placed)
        events = EventSourceStep("worker-events", lam, name, queue_arn=queue.output("queue_arn"),
                                 needs=["queue", "worker"], batch_size=q.batch_size, window=q.batching_window)
        return [*made, logs, role, function, events]

    def _alerts(self, *, load_balancer: Step, service: Step, worker_service: Step | None, worker: Step | None,
                database: Step | None, cache: Step | None, queue: Step | None,
                distribution: Step | None) -> list[Step]:
        """[alerts]: alarms on what this stage runs (a [frontend] distribution is not ours to watch)."""
        from tscloud_py.presets.steps.alarm_catalogue import watched
        from tscloud_py.presets.steps.alarms import alert_steps

        cfg = self.config
        if cfg.alerts is None:
            return []
        watching = [watched("alb", "api", lb_arn=load_balancer.output("lb_arn"), tg_arn=load_balancer.output("tg_arn")),
                    watched("service", "api", cluster=service.output("cluster"), service=service.output("service"))]
        if worker_service is not None:
            watching.append(watched("service", "worker", cluster=worker_service.output("cluster"),
                                    service=worker_service.output("service")))
        if worker is not None:
            watching.append(watched("function", "worker", function_name=worker.output("function_name")))
        if database is not None and cfg.database is not None:
            aurora = cfg.database.engine == "aurora-postgresql"
            watching.append(watched("aurora" if aurora else "database", "db", identifier=database.output("identifier")))
        if cache is not None:
            watching.append(watched("redis", "redis", group_id=cache.output("group_id")))
        if queue is not None:
            watching.append(watched("queue", "queue", queue_url=queue.output("queue_url"),
                                    dlq_url=queue.output("dlq_url")))
        if distribution is not None:
            watching.append(watched("distribution", "cdn", distribution_id=distribution.output("distribution_id")))
        return alert_steps(self.names, cfg.alerts, self.aws, watching)

    def _frontend_web_acl(self) -> list[Step]:
        """[waf] frontend = true: the stage's web ACL on [frontend]'s distribution, which this app does not own
        (a [site] distribution gets it from ``site_steps``)."""
        cfg = self.config
        if cfg.frontend is None or cfg.waf is None or not cfg.waf.frontend:
            return []
        from tscloud_py.aws.cloudfront.client import CloudFront
        from tscloud_py.presets.steps.web_acl import ForeignDistributionWebAclStep, web_acl_step

        web_acl = web_acl_step(cfg, self.aws, self.names)
        if web_acl is None:
            return []
        return [web_acl, ForeignDistributionWebAclStep(
            "frontend-web-acl", CloudFront(self.aws), self.names, needs=["web-acl"],
            distribution_id=cfg.frontend.distribution_id, web_acl_arn=web_acl.output("web_acl_arn"))]

    def _api_certificate(self) -> Step:
        """[api] domain: a certificate in the API's region, validated through [dns]."""
        from tscloud_py.aws.acm import Acm
        from tscloud_py.dns import get_provider
        from tscloud_py.presets.steps.common import CertificateStep

        assert self.config.api is not None and self.config.api.domain
        return CertificateStep("api-certificate", Acm(self.aws, self.aws.region), get_provider(self.config.dns, self.aws),
                               [self.config.api.domain], self.names)

    def _api_dns(self, load_balancer: Step) -> Step:
        """[api] domain pointed at the ALB."""
        from tscloud_py.dns import get_provider
        from tscloud_py.presets.steps.common import DnsRecordStep

        assert self.config.api is not None and self.config.api.domain
        return DnsRecordStep("api-dns", get_provider(self.config.dns, self.aws), self.config.api.domain,
                             load_balancer.output("dns_name"), record_type="ALIAS",
                             alias_zone_id=load_balancer.output("zone_id"), needs=["load-balancer"])

    def live_status(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        from tscloud_py.aws.ecs import Ecs
        from tscloud_py.aws.elbv2 import Elbv2
        from tscloud_py.presets.fullstack_app.operate import live_status

        return live_status(Ecs(self.aws), Elbv2(self.aws), step_outputs)

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
        if "worker" in step_outputs:
            out["worker_function"] = step_outputs["worker"]["function_name"]
            out["worker_log_group"] = step_outputs["worker-logs"]["log_group"]
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
