"""The per-invocation context every command shares: flags, config, AWS clients, state paths."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.schema import Config

LOCAL_CREDENTIALS = {
    "aws_access_key_id": "tscloud-local",
    "aws_secret_access_key": "tscloud-local",
}


@dataclass
class AppContext:
    config_path: Path = Path("tscloud.toml")
    stage: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    local: bool = False
    output: str = "text"
    yes: bool = False
    verbose: bool = False
    _config: Config | None = field(default=None, repr=False)
    _factories: dict[str, ClientFactory] = field(default_factory=dict, repr=False)
    _local_endpoint: str | None = field(default=None, repr=False)

    @property
    def json(self) -> bool:
        return self.output == "json"

    @property
    def project_dir(self) -> Path:
        return self.config_path.resolve().parent

    def config(self) -> Config:
        if self._config is None:
            from tscloud_py.config.load import load_config

            self._config = load_config(self.config_path, stage=self.stage, region=self.region)
        return self._config

    def resolved_endpoint(self) -> str | None:
        if self.local:
            return self.emulator_endpoint()
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None

    def emulator_endpoint(self) -> str:
        """This user's emulator, started in the background when none runs (tscloud_py.emulator.daemon)."""
        if self._local_endpoint is None:
            from tscloud_py.emulator.daemon import ensure_running

            found = ensure_running()
            if found.started_now and found.notice:
                self._note(f"note: {found.notice}")
            how = " (started in the background; `tscloud local stop` stops it)" if found.started_now else ""
            self._note(f"local emulator: {found.endpoint}{how}")
            self._local_endpoint = found.endpoint
        return self._local_endpoint

    def at_user_emulator(self) -> bool:
        """Whether this command talks to the user's emulator, by --local or by --endpoint-url at it."""
        if self.local:
            return True
        from tscloud_py.emulator.home import is_user_emulator

        return is_user_emulator(self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))

    def factory(self, region: str | None = None) -> ClientFactory:
        """The client factory for ``region`` (default: flag, then config, then us-east-1)."""
        from tscloud_py.aws.session import ClientFactory

        if region is None:
            region = self.region
            if region is None and self.config_path.exists():
                region = self.config().region
        key = region or ""
        if key not in self._factories:
            endpoint = self.resolved_endpoint()
            credentials = None
            if (self.local and not _as_role()) or (endpoint and _is_loopback(endpoint) and not self.profile
                                                   and not os.environ.get("AWS_ACCESS_KEY_ID")):
                credentials = LOCAL_CREDENTIALS
            self._factories[key] = ClientFactory(profile=None if self.local else self.profile, region=region,
                                                 endpoint_url=endpoint, credentials=credentials)
        return self._factories[key]

    def state_dir(self, factory: ClientFactory, app: str, stage: str) -> Path:
        """Where the local state backend keeps the journal and lock: keyed by target, account, region,
        app and stage (the S3 backend keeps them in the account; ``operations/state.py`` chooses).

        A custom endpoint (the emulator, a moto server) gets its own tree, so a
        local journal never mixes with a real account's.
        """
        endpoint = factory.endpoint_url
        if endpoint:
            parsed = urlparse(endpoint)
            target = f"endpoint-{parsed.hostname}-{parsed.port or 443}"
        else:
            target = "aws"
        return self.project_dir / ".tscloud" / "state" / target / factory.account_id() / factory.region / app / stage

    def _note(self, text: str) -> None:
        from tscloud_py.redact import scrub

        if not self.json:
            print(scrub(text), file=sys.stderr, flush=True)


def _is_loopback(url: str) -> bool:
    from tscloud_py.hosts import is_loopback_host

    return is_loopback_host(urlparse(url).hostname or "")


def _as_role() -> bool:
    """Under enforced IAM, --local runs as the role whose session the environment holds (assumed in the
    emulator), so that its policy is what the emulator holds the run to."""
    from tscloud_py.emulator.enforce_iam import enforcing

    return enforcing() and bool(os.environ.get("AWS_SESSION_TOKEN"))
