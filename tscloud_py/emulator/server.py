"""The per-user emulator: moto's server on a stable loopback port, behind the guard, saved to disk.

One process per user holds it (`tscloud local serve`, in the foreground or started in the background by
the first ``--local`` command: tscloud_py.emulator.daemon). Its state is restored from the snapshot in the
user's emulator home when it starts, saved a moment after each write and again when it stops.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tscloud_py.emulator import enforce_iam, snapshot
from tscloud_py.emulator.home import admin_token, preferred_port, registry_password, write_json
from tscloud_py.errors import EmulatorUnavailableError
from tscloud_py.loopback import Loopback

# moto's defaults are tuned for its own tests; an emulator a person deploys to
# should settle quickly and look like a healthy account.
EMULATOR_ENV = {
    "MOTO_ACM_VALIDATION_WAIT": "2",
    "MOTO_ECS_SERVICE_RUNNING": "1",
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}
SNAPSHOT = "snapshot.bin"
SAVE_AFTER = 0.5  # seconds after a write; a burst of writes (a deploy) is saved a few times, not per request

AdminRoute = Callable[[dict[str, Any]], dict[str, Any]]


class Emulator:
    def __init__(self, home: Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.home, self.host = home, host
        self.fixed_port = port
        self.port = 0
        self.started = time.time()
        self.notice: str | None = None  # what happened to an unreadable snapshot
        self.admin_routes: dict[str, AdminRoute] = {}
        self._server: Loopback | None = None
        self._registry: Any = None
        self._guard: Any = None
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._saver: threading.Thread | None = None

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
        except ImportError as exc:
            raise EmulatorUnavailableError(
                "--local: the embedded emulator needs moto's server, which is not installed") from exc
        from tscloud_py.emulator.fidelity import patch_moto_fidelity
        from tscloud_py.emulator.guard import Guard
        from tscloud_py.emulator.lambda_ import invoke as local_invoke
        from tscloud_py.emulator.lambda_ import rest_api as local_rest_api

        patch_moto_fidelity()
        if enforce_iam.enforcing():
            enforce_iam.apply()
        local_invoke.FUNCTION_URLS.enabled = True
        local_rest_api.STAGES.enabled = True
        # werkzeug logs every request; a user watching a deploy does not want that.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._restore()
        self._guard = Guard(DomainDispatcherApplication(create_backend_app), admin_token(self.home),
                            admin=self._admin, on_write=self._dirty.set)
        # moto's app is WSGI, so werkzeug builds the server; it is served like every other loopback server.
        self._server = Loopback(self._bind(), name="emulator")
        self.port = self._server.port
        local_invoke.ENVIRONMENTS.endpoint = self.endpoint
        if self.fixed_port is None:
            write_json(self.home / "port.json", {"port": self.port})
        self._saver = threading.Thread(target=self._save_loop, name="emulator-snapshot", daemon=True)
        self._saver.start()
        from tscloud_py.emulator.lambda_.sqs_events import POLLER
        from tscloud_py.emulator.schedules import RUNNER

        POLLER.start(on_change=self._dirty.set)
        RUNNER.start(on_change=self._dirty.set)
        self._start_registry()
        return self.endpoint

    def _bind(self) -> Any:
        from werkzeug.serving import make_server

        if self.fixed_port is not None:
            try:
                return make_server(self.host, self.fixed_port, self._guard, threaded=True)
            except SystemExit:  # werkzeug's answer to a taken port
                raise OSError(errno.EADDRINUSE, "Address already in use") from None
        try:
            return make_server(self.host, preferred_port(self.home), self._guard, threaded=True)
        except (OSError, SystemExit):  # werkzeug exits on a taken port: take any free one, remembered for next time
            return make_server(self.host, 0, self._guard, threaded=True)

    def _restore(self) -> None:
        path = self.home / SNAPSHOT
        try:
            snapshot.load(path)
        except snapshot.Unreadable as exc:
            aside = snapshot.move_aside(path)
            self.notice = f"the emulator's snapshot could not be read ({exc}); moved to {aside}, starting empty"
            return
        _serve_restored_function_urls()

    def save(self) -> None:
        """Write the snapshot now, with no request in flight."""
        if self._guard is None:
            return
        for _ in range(3):
            try:
                with self._guard.gate:
                    data = snapshot.dump()
                break
            except RuntimeError:  # a background thread of moto's changed a dict mid-walk: walk again
                time.sleep(0.05)
        else:
            return
        from tscloud_py.emulator.home import write_private

        write_private(self.home / SNAPSHOT, data)

    def _save_loop(self) -> None:
        while not self._stopping.is_set():
            if not self._dirty.wait(1.0):
                continue
            self._stopping.wait(SAVE_AFTER)
            self._dirty.clear()
            self.save()

    def _admin(self, route: str, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if route == "health":
            return 200, {"pid": os.getpid(), "endpoint": self.endpoint, "started": self.started}
        if route == "snapshot":
            self.save()
            return 200, {"saved": str(self.home / SNAPSHOT)}
        handler = self.admin_routes.get(route)
        if handler is None:
            return 404, {"error": f"no admin route {route!r}"}
        return 200, handler(environ)

    def _start_registry(self) -> None:
        """ECR repositories get a real registry to push to, when Debian's docker-registry is installed."""
        from tscloud_py.emulator import registry as local_registry

        if local_registry.registry_binary() is None:
            return
        self._registry = local_registry.Registry(registry_password(self.home))
        local_registry.attach(self._registry.start(), self._registry.password)

    def stop(self) -> None:
        from tscloud_py.emulator.lambda_ import invoke as local_invoke
        from tscloud_py.emulator.lambda_ import rest_api as local_rest_api
        from tscloud_py.emulator.lambda_.sqs_events import POLLER
        from tscloud_py.emulator.schedules import RUNNER

        self._stopping.set()
        POLLER.stop()
        RUNNER.stop()
        if self._server is not None:
            self._server.close()
            self._server = None
            self.save()
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


def _serve_restored_function_urls() -> None:
    """Function URLs restored from the snapshot are served again, as they were when created."""
    import sys

    if "moto.awslambda.models" not in sys.modules:
        return
    from moto.awslambda.models import lambda_backends

    from tscloud_py.emulator.lambda_ import invoke as local_invoke

    for account in lambda_backends.values():
        for backend in account.values():
            for fn in list(backend._lambdas.all()):
                if getattr(fn, "url_config", None) is not None:
                    local_invoke.serve_url(fn, fn.url_config)
