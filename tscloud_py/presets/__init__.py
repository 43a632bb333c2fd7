"""Presets: orchestrators that compose steps. They never call boto3 directly."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tscloud_py.config.preset_registry import PRESETS
from tscloud_py.engine.step import Outputs, Step
from tscloud_py.presets.naming import Names

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.aws.waiters import ProgressCallback
    from tscloud_py.build.publish import Tree
    from tscloud_py.config.schema import Config
    from tscloud_py.presets.steps.secrets import FunctionSecrets, SecretReader

@dataclass
class PresetOptions:
    """Run options that are not config: they change how, not what."""

    no_snapshot: bool = False
    verbose: bool = False
    upload_concurrency: int | None = None  # files (or parts) uploaded at once; None: the default
    wait_invalidation: bool = False  # the deploy ends once CloudFront has finished invalidating


class Preset(ABC):
    def __init__(self, config: Config, aws: ClientFactory, options: PresetOptions | None = None) -> None:
        self.config = config
        self.aws = aws
        self.options = options or PresetOptions()
        # what validate() found worth telling (private files held back, a directory outside the project)
        self.notices: list[str] = []
        # what preflight() checked and found in order, one line each: plan shows them
        self.checks: list[str] = []
        self._checked: dict[tuple[Path, tuple[str, ...], bool, str], Tree] = {}

    @property
    def names(self) -> Names:
        """Where every step of this app and stage gets its names from."""
        return Names(self.config.app, self.config.stage, self.aws.region)

    def validate(self) -> None:
        """Checks that need the filesystem (a build dir exists, ...). Raise UsageError/ConfigError."""
        return None

    def preflight(self) -> None:
        """Checks that need reads (what the config refers to exists, the DNS provider takes the credentials,
        a Docker engine answers when an image is to be built). Plan and deploy run it before the first
        write, so a deploy refuses what its plan would have refused, having changed nothing: a failure is
        a UsageError (exit 2). What passed is noted in ``checks``."""
        return None

    def check_dns(self, domain: str) -> None:
        """The [dns] provider accepts the credentials, by one read: the zone that holds ``domain``. A
        rejection is an exit 2 here, before the certificate is requested."""
        from tscloud_py.dns import DnsAuthError, get_provider
        from tscloud_py.errors import UsageError

        provider = get_provider(self.config.dns, self.aws)
        try:
            zone = provider.find_zone(domain)
        except DnsAuthError as exc:
            raise UsageError(exc.message, exc.hint) from None
        self.checks.append(f"{provider.name}: the credentials are accepted; {domain} is in zone {zone.name}")

    def check_published(self, table: str, key: str, value: str, *, allow_outside: bool,
                        include: tuple[str, ...] | list[str] = (), sub: str = "", private: bool = True,
                        key_prefix: str = "") -> Tree:
        """Refuse a published directory outside the project or with links leaving it; note private files.

        ``value`` is the config value of ``{table}.{key}``; ``sub`` a directory under it that is what
        gets published (an SSR build's ``public``). ``private=False`` for code that is not served.
        """
        from tscloud_py.build.publish import Tree, check_tree, inside_project

        name = f"{table}.{key}"
        root = inside_project(self.config.path, name, self.config.base_dir, value, allow_outside=allow_outside,
                              notices=self.notices) / sub
        if not root.is_dir():
            return Tree()
        tree = check_tree(self.config.path, name, root, include=tuple(include), skip_private=private,
                          key_prefix=key_prefix)
        self._checked[(root.resolve(), tuple(include), private, key_prefix)] = tree
        if tree.private:
            shown = ", ".join(tree.private[:8]) + (f" and {len(tree.private) - 8} more" if len(tree.private) > 8
                                                   else "")
            self.notices.append(f"{name}: not published (private): {shown}; list them in {table}.include "
                                "to publish them")
        return tree

    def checked_tree(self, root: Path, *, include: tuple[str, ...] = (), key_prefix: str = "") -> Tree | None:
        """The published tree ``check_published`` walked under ``root`` in this run, if it did: the step that
        uploads it takes that walk instead of making a second (a big site's walk is a stat per file)."""
        return self._checked.get((root.resolve(), tuple(include), True, key_prefix))

    def secret_readers(self) -> dict[str, SecretReader]:
        """step id -> the secrets it reads, as the config references them (`plan` lists them, `secret list`
        names the steps, `secret set --roll` refreshes them)."""
        return {}

    def function_secrets(self, step_id: str) -> FunctionSecrets | None:
        """What the Lambda function of step ``step_id`` reads at init, for it and its role (None: nothing)."""
        reader = self.secret_readers().get(step_id)
        if reader is None:
            return None
        from tscloud_py.aws.secrets import Secrets
        from tscloud_py.aws.ssm import Ssm
        from tscloud_py.presets.steps.secrets import FunctionSecrets

        return FunctionSecrets(reader, str(self.config.path), self.names, Secrets(self.aws), Ssm(self.aws),
                               self.aws.account_id)

    def check_secrets(self) -> None:
        """Every secret a step reads exists (a missing one is an exit 2 naming the key and, for the stage's
        own, `tscloud secret set NAME`); what each step reads is a line in ``checks``."""
        from tscloud_py.aws.secrets import Secrets
        from tscloud_py.aws.ssm import Ssm
        from tscloud_py.presets.steps.secrets import check_refs_exist, resolve_refs

        secrets, ssm, names, shown = Secrets(self.aws), Ssm(self.aws), self.names, str(self.config.path)
        for step_id, reader in self.secret_readers().items():
            resolved = resolve_refs(reader.refs, key=reader.key, shown=shown, secrets=secrets, names=names,
                                    account=self.aws.account_id)
            check_refs_exist(reader, resolved, shown=shown, secrets=secrets, ssm=ssm, region=names.region)
            read = ", ".join(f"{var} ({reader.refs[var]})" for var in sorted(resolved))
            self.checks.append(f"secrets: {step_id} reads {read}")

    def refresh_secret_readers(self, step_ids: list[str], progress: ProgressCallback | None = None
                               ) -> tuple[list[dict[str, str]], list[str]]:
        """Make what the steps ``step_ids`` run read their secrets' current values (restart a service,
        point a function at the new versions), waited for: (what was refreshed, what is not deployed)."""
        return [], []

    def plan_extras(self) -> dict[str, Any]:
        """Extra plan facts (a monthly cost, a NAT gateway's price) for `tscloud plan`."""
        return {}

    def live_status(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        """Extra live facts for `tscloud status` (running tasks, rollout state, target health)."""
        return {}

    def watch_status(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        """For `tscloud status`: what the stage's web ACL blocked and counted in the last hour, its alarms."""
        from tscloud_py.presets.watch import watch_status

        return watch_status(self.config, self.aws, self.names, step_outputs)

    @abstractmethod
    def steps(self) -> list[Step]:
        """The step graph for this config."""

    @abstractmethod
    def outputs(self, step_outputs: dict[str, Outputs]) -> dict[str, Any]:
        """The user-facing outputs, from the steps' outputs."""


def load_preset(config: Config, aws: ClientFactory, options: PresetOptions | None = None) -> Preset:
    module_name, _, class_name = PRESETS[config.preset].loader.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    preset: Preset = cls(config, aws, options)
    return preset
