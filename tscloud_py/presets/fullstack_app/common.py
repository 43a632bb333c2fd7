"""What every fullstack step shares: names, tags, lazily built clients, JSON comparison."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tscloud_py.engine.step import Change, Step
from tscloud_py.presets.diffing import canonical
from tscloud_py.presets.naming import short_name, tag_dict

if TYPE_CHECKING:
    from tscloud_py.aws.autoscaling import AutoScaling
    from tscloud_py.aws.ec2 import Ec2
    from tscloud_py.aws.ecr import Ecr
    from tscloud_py.aws.ecs import Ecs
    from tscloud_py.aws.elasticache import ElastiCache
    from tscloud_py.aws.elbv2 import Elbv2
    from tscloud_py.aws.iam import Iam
    from tscloud_py.aws.logs import Logs
    from tscloud_py.aws.rds import Rds
    from tscloud_py.aws.scheduler import Scheduler
    from tscloud_py.aws.secrets import Secrets
    from tscloud_py.aws.ses import Ses
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.sqs import Sqs
    from tscloud_py.config.schema import Config
    from tscloud_py.presets import PresetOptions

ORIGIN_HEADER = "X-Origin-Verify"


class Env:
    """The shared context of one fullstack-app run: config, names, tags and clients."""

    def __init__(self, config: Config, aws: ClientFactory, options: PresetOptions) -> None:
        self.config = config
        self.aws = aws
        self.options = options
        self.app = config.app
        self.stage = config.stage
        self.prefix = f"{config.app}-{config.stage}"
        # A retained data store keeps its subnets and security groups alive, so those stay too.
        self.retains_data = bool((config.database and config.database.retain)
                                 or (config.cache and config.cache.retain))

    def name(self, role: str, limit: int = 255) -> str:
        return short_name(f"{self.prefix}-{role}", limit)

    def tags(self, step: str) -> dict[str, str]:
        return tag_dict(self.app, self.stage, step)

    def owner_tags(self) -> dict[str, str]:
        return {"tscloud:app": self.app, "tscloud:stage": self.stage}

    @property
    def region(self) -> str:
        return self.aws.region

    def account(self) -> str:
        return self.aws.account_id()

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account()}:{resource}"

    @cached_property
    def ec2(self) -> Ec2:
        from tscloud_py.aws.ec2 import Ec2

        return Ec2(self.aws)

    @cached_property
    def elbv2(self) -> Elbv2:
        from tscloud_py.aws.elbv2 import Elbv2

        return Elbv2(self.aws)

    @cached_property
    def ecs(self) -> Ecs:
        from tscloud_py.aws.ecs import Ecs

        return Ecs(self.aws)

    @cached_property
    def ecr(self) -> Ecr:
        from tscloud_py.aws.ecr import Ecr

        return Ecr(self.aws)

    @cached_property
    def rds(self) -> Rds:
        from tscloud_py.aws.rds import Rds

        return Rds(self.aws)

    @cached_property
    def elasticache(self) -> ElastiCache:
        from tscloud_py.aws.elasticache import ElastiCache

        return ElastiCache(self.aws)

    @cached_property
    def secrets(self) -> Secrets:
        from tscloud_py.aws.secrets import Secrets

        return Secrets(self.aws)

    @cached_property
    def sqs(self) -> Sqs:
        from tscloud_py.aws.sqs import Sqs

        return Sqs(self.aws)

    @cached_property
    def logs(self) -> Logs:
        from tscloud_py.aws.logs import Logs

        return Logs(self.aws)

    @cached_property
    def iam(self) -> Iam:
        from tscloud_py.aws.iam import Iam

        return Iam(self.aws)

    @cached_property
    def ses(self) -> Ses:
        from tscloud_py.aws.ses import Ses

        return Ses(self.aws)

    @cached_property
    def scheduler(self) -> Scheduler:
        from tscloud_py.aws.scheduler import Scheduler

        return Scheduler(self.aws)

    @cached_property
    def autoscaling(self) -> AutoScaling:
        from tscloud_py.aws.autoscaling import AutoScaling

        return AutoScaling(self.aws)


class FsStep(Step):
    """A fullstack step: its id and needs as the preset lists them, and the shared Env."""

    def __init__(self, step_id: str, env: Env, *, needs: Sequence[str] = ()) -> None:
        self.id = step_id
        self.needs = tuple(needs)
        self.env = env

    @property
    def tags(self) -> dict[str, str]:
        return self.env.tags(self.id)


def compare(changes: list[Change], field: str, old: Any, new: Any, *, destructive: bool = False) -> None:
    """Append a Change when ``old`` and ``new`` differ (compared as canonical JSON)."""
    if canonical(old) != canonical(new):
        changes.append(Change(field, old, new, destructive))
