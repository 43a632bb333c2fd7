"""The embedded AWS emulator: moto's server on a free loopback port.

``--local`` starts one in-process for the length of a command (or reuses one
that ``tscloud local serve`` keeps running, found through
``.tscloud/local/endpoint.json``). Its account is moto's, its journal lives
under its own endpoint key, so nothing mixes with a real account.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import threading
import urllib.request
from pathlib import Path
from typing import Any

from tscloud_py.errors import EmulatorUnavailableError

# moto's defaults are tuned for its own tests; an emulator a person deploys to
# should settle quickly and look like a healthy account.
EMULATOR_ENV = {
    "MOTO_ACM_VALIDATION_WAIT": "2",
    "MOTO_ECS_SERVICE_RUNNING": "1",
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}


def patch_moto_fidelity() -> None:
    """Make moto's bucket-policy check follow AWS's rule for conditions.

    In AWS a statement whose Condition is not met does not apply. moto instead
    treats a Deny statement with an unmet condition as a blanket Deny, and has
    no notion of transport, so a TLS-only bucket policy (Deny when
    aws:SecureTransport is false) would refuse every object write. We keep the
    policy and fix the evaluator: the emulator stands in for AWS's TLS
    endpoints, so every request counts as secure transport.
    """
    try:
        from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    except ImportError:
        return
    if getattr(IAMPolicyStatement, "_tscloud_patched", False):
        return
    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> Any:
        incoming = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        condition = self._statement.get("Condition")
        if condition and not conditions_met(condition, incoming):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, None if condition else incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]
    IAMPolicyStatement._tscloud_patched = True  # type: ignore[attr-defined]
    _keep_cloudfront_origin_fields()


def _keep_cloudfront_origin_fields() -> None:
    """moto drops an origin's OriginAccessControlId and S3OriginConfig; AWS returns both."""
    from moto.cloudfront import models

    original_init = models.Origin.__init__

    def init(self: Any, origin: dict[str, Any]) -> None:
        original_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in origin:
            self.s3_origin_config = dict(origin["S3OriginConfig"])

    models.Origin.__init__ = init  # type: ignore[method-assign]


def conditions_met(condition: dict[str, dict[str, Any]], values: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators our policies use; a missing key is unmet."""
    lowered = {k.lower(): v for k, v in values.items()}
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = lowered.get(key.lower())
            if actual is None:
                return False
            options = expected if isinstance(expected, list) else [expected]
            if operator == "Bool":
                ok = any(str(actual).lower() == str(o).lower() for o in options)
            elif operator in ("StringEquals", "ArnEquals"):
                ok = actual in options
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, str(o)) for o in options)
            elif operator in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in options
            else:
                return False
            if not ok:
                return False
    return True


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

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
        patch_moto_fidelity()
        # werkzeug logs every request; a user watching a deploy does not want that.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self.host, self.port, app, threaded=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_forever(self) -> None:
        if self._thread is not None:
            self._thread.join()


def endpoint_file(project_dir: Path) -> Path:
    return project_dir / ".tscloud" / "local" / "endpoint.json"


def write_endpoint(project_dir: Path, endpoint: str) -> Path:
    path = endpoint_file(project_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"endpoint": endpoint, "pid": os.getpid()}))
    return path


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
