"""Where the per-user emulator keeps what lasts: its snapshot, admin token, registry password, port and logs.

``$XDG_STATE_HOME/tscloud/emulator`` (else ``~/.local/state/tscloud/emulator``), a directory only its user
can enter (0700). The snapshot holds every Secrets Manager value deployed to the emulator, and the token
opens its admin endpoints, so each file is written 0600 and replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

#: the port range a user's emulator is placed in, picked by a hash of its directory (stable per user)
PORT_BASE, PORT_SPAN = 42000, 8000
STATE = "emulator.json"  # the running emulator's endpoint, pid and start time


def emulator_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    home = Path(base) / "tscloud" / "emulator"
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode is masked by umask and ignored for an existing directory: make sure.
    if home.stat().st_mode & 0o077:
        home.chmod(0o700)
    return home


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its user only, atomically (a reader sees old or new, whole)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def private_secret(name: str, home: Path | None = None) -> str:
    """A random value kept in ``name`` under the emulator's home, made on first use."""
    path = (home or emulator_home()) / name
    try:
        value = path.read_text().strip()
        if value:
            return value
    except OSError:
        pass
    value = secrets.token_urlsafe(32)
    write_private(path, value.encode())
    return value


def admin_token(home: Path | None = None) -> str:
    """Opens the emulator's admin endpoints (/moto-api/..., /_tscloud/...): only this user can read it."""
    return private_secret("token", home)


def registry_password(home: Path | None = None) -> str:
    """The local registry's password (ECR's token names it): per user, not a string anyone could know."""
    return private_secret("registry-password", home)


def preferred_port(home: Path) -> int:
    """The port this user's emulator listens on: the one it last had, else one derived from its directory."""
    recorded = read_json(home / "port.json").get("port")
    if isinstance(recorded, int) and 0 < recorded < 65536:
        return recorded
    digest = int(hashlib.sha256(str(home).encode()).hexdigest(), 16)
    return PORT_BASE + digest % PORT_SPAN


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_private(path, json.dumps(data, indent=2, sort_keys=True).encode())


def is_user_emulator(endpoint: str | None) -> bool:
    """Whether ``endpoint`` is this user's emulator (so --endpoint-url at it is the same as --local).
    Here, not in the daemon module: every run with an endpoint asks, and needs none of the daemon's imports."""
    if not endpoint:
        return False
    info = read_json(emulator_home() / STATE)
    return bool(info.get("endpoint")) and str(info["endpoint"]).rstrip("/") == endpoint.rstrip("/")
