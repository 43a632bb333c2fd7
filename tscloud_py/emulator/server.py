"""The embedded AWS emulator: moto's server on a free loopback port.

``--local`` starts one in-process for the length of a command (or reuses one
that ``tscloud local serve`` keeps running, found through
``.tscloud/local/endpoint.json``). Its account is moto's, its journal lives
under its own endpoint key, so nothing mixes with a real account.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from pathlib import Path
from typing import Any

from tscloud_py.errors import EmulatorUnavailableError
from tscloud_py.loopback import Loopback

# moto's defaults are tuned for its own tests; an emulator a person deploys to
# should settle quickly and look like a healthy account.
EMULATOR_ENV = {
    "MOTO_ACM_VALIDATION_WAIT": "2",
    "MOTO_ECS_SERVICE_RUNNING": "1",
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: Loopback | None = None
        self._registry: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        for key, value in EMULATOR_ENV.items():
            os.environ.setdefault(key, value)
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                create_backend_app,
            )
            from werkzeug.serving import make_server
        except ImportError as exc:
            raise EmulatorUnavailableError(
                "--local: the embedded emulator needs moto's server, which is not installed") from exc
        from tscloud_py.emulator.fidelity import patch_moto_fidelity

        patch_moto_fidelity()
        from tscloud_py.emulator.lambda_ import invoke as local_invoke
        from tscloud_py.emulator.lambda_ import rest_api as local_rest_api

        local_invoke.FUNCTION_URLS.enabled = True
        local_rest_api.STAGES.enabled = True
        # werkzeug logs every request; a user watching a deploy does not want that.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = DomainDispatcherApplication(create_backend_app)
        # moto's app is WSGI, so werkzeug builds the server; it is served like every other loopback server.
        self._server = Loopback(make_server(self.host, self.port, app, threaded=True), name="emulator")
        self.port = self._server.port
        self._start_registry()
        return self.endpoint

    def _start_registry(self) -> None:
        """ECR repositories get a real registry to push to, when Debian's docker-registry is installed."""
        from tscloud_py.emulator import registry as local_registry

        if local_registry.registry_binary() is None:
            return
        self._registry = local_registry.Registry()
        local_registry.attach(self._registry.start())

    def stop(self) -> None:
        from tscloud_py.emulator.lambda_ import invoke as local_invoke
        from tscloud_py.emulator.lambda_ import rest_api as local_rest_api

        if self._server is not None:
            self._server.close()
            self._server = None
        local_invoke.FUNCTION_URLS.close()
        local_rest_api.STAGES.close()
        local_invoke.ENVIRONMENTS.close()
        if self._registry is not None:
            from tscloud_py.emulator import registry as local_registry

            local_registry.detach()
            self._registry.stop()
            self._registry = None

    def serve_forever(self) -> None:
        if self._server is not None:
            self._server.join()


def endpoint_file(project_dir: Path) -> Path:
    return project_dir / ".tscloud" / "local" / "endpoint.json"


def write_endpoint(project_dir: Path, endpoint: str) -> Path:
    path = endpoint_file(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"endpoint": endpoint, "pid": os.getpid()}))
    return path


def function_urls_file(project_dir: Path) -> Path:
    return project_dir / ".tscloud" / "local" / "function-urls.json"


def write_function_urls(project_dir: Path, urls: dict[str, str]) -> None:
    """{AWS Function URL: its loopback address} for the emulator `tscloud local serve` keeps running."""
    path = function_urls_file(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(urls, indent=2, sort_keys=True))


def local_function_url(project_dir: Path, aws_url: str) -> str | None:
    try:
        urls = json.loads(function_urls_file(project_dir).read_text())
    except (OSError, ValueError):
        return None
    found = urls.get(aws_url.rstrip("/") + "/") if isinstance(urls, dict) else None
    return str(found) if found else None


def running_endpoint(project_dir: Path) -> str | None:
    """The endpoint of a live `tscloud local serve` for this project, if any."""
    path = endpoint_file(project_dir)
    try:
        endpoint = str(json.loads(path.read_text())["endpoint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return endpoint if is_alive(endpoint) else None


def is_alive(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False
