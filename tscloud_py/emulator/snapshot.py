"""The emulator's state on disk: one pickle of every moto backend a request has touched.

Why a snapshot and not a replay log of write requests: moto makes up ids (distribution ids, ARNs with
random suffixes, ETags, secret version ids) on every create, and the journal, the edge's stable ports and
the user's notes all name them. Replaying writes would make new ids for the same resources; unpickling
the backends brings back the very objects, ids and all. See docs/local-emulator.md.

The file starts with a header naming the format and the moto and Python versions it was written by; a
file another version wrote, or one cut short, is moved aside (never loaded half, never lost silently).
"""

from __future__ import annotations

import io
import json
import pickle
import sys
import threading
import time
import weakref
from collections import defaultdict
from pathlib import Path
from typing import Any

from tscloud_py.emulator.home import write_private

MAGIC = b"tscloud-emulator-snapshot\n"
FORMAT = 1
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _versions() -> dict[str, Any]:
    import moto

    return {"format": FORMAT, "moto": moto.__version__, "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


class _Pickler(pickle.Pickler):
    """moto's backends hold a few things pickle refuses: locks, weak maps, lambdas as defaultdict factories,
    private keys. Each is rebuilt as an equal fresh object."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if isinstance(obj, _LOCK_TYPES[1]) else threading.Lock, ())
        if isinstance(obj, threading.Event):
            return (threading.Event, ())
        if isinstance(obj, weakref.WeakValueDictionary):
            return (weakref.WeakValueDictionary, (dict(obj),))
        if isinstance(obj, defaultdict) and obj.default_factory is not None \
                and getattr(obj.default_factory, "__name__", "") == "<lambda>":
            factory = type(obj.default_factory())  # moto's lambdas make an empty dict, list or set
            return (defaultdict, (factory,), None, None, iter(obj.items()))
        if type(obj).__module__.startswith("cryptography.") and hasattr(obj, "private_bytes"):
            from cryptography.hazmat.primitives import serialization

            pem = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            return (_private_key, (pem,))
        return NotImplemented


def _touched_backends() -> dict[str, Any]:
    """{moto service: its BackendDict} for each service a request has loaded (the rest are empty)."""
    from moto.backends import get_backend, list_of_moto_modules

    found = {}
    for name in list_of_moto_modules():
        if f"moto.{name}.models" not in sys.modules:
            continue
        try:
            backend = get_backend(name)  # type: ignore[call-overload]
        except Exception:  # a module moto cannot load was never used either
            continue
        if len(backend):
            found[name] = backend
    return found


def dump() -> bytes:
    state = {name: dict(backend) for name, backend in _touched_backends().items()}
    out = io.BytesIO()
    out.write(MAGIC)
    out.write(json.dumps(_versions()).encode() + b"\n")
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return out.getvalue()


def save(path: Path) -> None:
    write_private(path, dump())


class Unreadable(Exception):
    """The snapshot cannot be loaded: the reason, in a few words."""


def load(path: Path) -> int:
    """Put the snapshot's backends in place; the number of services restored (0: no snapshot)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    if not data.startswith(MAGIC):
        raise Unreadable("not an emulator snapshot")
    header, _, payload = data[len(MAGIC):].partition(b"\n")
    try:
        versions = json.loads(header)
    except ValueError:
        raise Unreadable("its header is damaged") from None
    if versions != _versions():
        raise Unreadable(f"written by moto {versions.get('moto')} / Python {versions.get('python')} "
                         f"(format {versions.get('format')}), this is {_versions()['moto']} / "
                         f"{_versions()['python']}")
    try:
        state = pickle.loads(payload)  # our own 0600 file, in the user's 0700 directory
    except Exception as exc:
        raise Unreadable(f"it is damaged ({type(exc).__name__})") from None
    from moto.backends import get_backend

    for name, accounts in state.items():
        backend = get_backend(name)
        backend.clear()
        backend.update(accounts)
    return len(state)


def move_aside(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
    path.replace(aside)
    return aside
