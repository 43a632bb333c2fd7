"""The per-invocation context every command shares: flags, config, AWS clients, state paths."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.schema import Config
    from tscloud_py.emulator.server import Emulator

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
    _emulator: Emulator | None = field(default=None, repr=False)

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

    @property
    def embedded_emulator(self) -> bool:
        """Whether this command runs its own emulator (not a `tscloud local serve` it found)."""
        return self._emulator is not None

    def emulator_endpoint(self) -> str:
        from tscloud_py.emulator.server import Emulator, running_endpoint

        if self._emulator is None:
            found = running_endpoint(self.project_dir)
            if found:
                self._note(f"local emulator: {found} (from `tscloud local serve`)")
                return found
            self._emulator = Emulator()
            self._emulator.start()
            self._note(f"local emulator: {self._emulator.endpoint} (embedded; gone when this command exits)")
        return self._emulator.endpoint

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
            if self.local or (endpoint and _is_loopback(endpoint) and not self.profile
                              and not os.environ.get("AWS_ACCESS_KEY_ID")):
                credentials = LOCAL_CREDENTIALS
            self._factories[key] = ClientFactory(profile=None if self.local else self.profile, region=region,
                                                 endpoint_url=endpoint, credentials=credentials)
        return self._factories[key]

    def state_dir(self, factory: ClientFactory, app: str, stage: str) -> Path:
        """Where the local state backend keeps the journal and lock: keyed by target, account, region,
        app and stage (the S3 backend keeps them in the account; state_backend.py chooses).

        A custom endpoint (the emulator, a moto server) gets its own tree, so a
        local journal never mixes with a real account's.
        """
        endpoint = factory.endpoint_url
        if endpoint:
            parsed = urlparse(endpoint)
            target = f"endpoint-{parsed.hostname}-{parsed.port or 443}"
            if self._emulator is not None:
                target = f"local-{parsed.port}"
        else:
            target = "aws"
        return self.project_dir / ".tscloud" / "state" / target / factory.account_id() / factory.region / app / stage

    def close(self) -> None:
        if self._emulator is not None:
            port = urlparse(self._emulator.endpoint).port
            self._emulator.stop()
            # An embedded emulator's state dies with it; so does its journal.
            for path in (self.project_dir / ".tscloud" / "state").glob(f"local-{port}"):
                shutil.rmtree(path, ignore_errors=True)
            self._emulator = None

    def _note(self, text: str) -> None:
        from tscloud_py.cli.ui import echo

        if not self.json:
            echo(text, err=True)


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
