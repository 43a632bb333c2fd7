"""The functions ``dataclasses`` writes for each class, compiled once per user, not once per run.

Python 3.11's ``dataclasses`` makes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and (for a
frozen class) ``__setattr__`` and ``__delattr__`` from source text, one ``exec`` each: a compile of a few
lines, some 230 of them as a deploy starts. That was half of the CPU tscloud's own modules cost to
import, about 30 ms of every command. The texts are the same in every run, and so are their compiled
code objects.

``install()`` gives the ``dataclasses`` module an ``exec`` of its own, which it finds before the builtin:
a text seen before runs from its kept code object, a new one is compiled as the builtin would (the same
file name, ``<string>``, and no inherited ``__future__`` flags: ``dataclasses`` has none) and kept. The
kept code is one file in the user's cache (``__main__`` names ``user_cache.py``'s ``compiled``): each
function's marshalled code by a digest of its text, read at install (a run unmarshals only the functions
its classes need) and written back at exit when the run compiled something new. The file is used only
in a directory only this user can use (``user_cache.private_dir``: the trust Python gives the
``__pycache__`` whose code it runs), as a regular file (``files.read_regular``) written by this Python
(its bytecode magic number) in this format; anything else is ignored and written again
(``files.write_whole``). Only the text ``dataclasses`` generates is kept: a few hundred small functions.

A Python whose ``dataclasses`` no longer calls ``exec`` by name compiles as before: nothing breaks, the
cache is only unused.
"""

from __future__ import annotations

import atexit
import builtins
import hashlib
import importlib.util
import marshal
import sys
import threading
import types
from pathlib import Path
from typing import Any

from tscloud_py.files import Unreadable, read_regular, write_whole

FORMAT = b"tscloud-code-cache 2\n"
FILE = "dataclasses.marshal"
MAX_ENTRIES = 4096  # a file grown past this (many versions of many classes) starts over with this run's
MAX_FILE_BYTES = 64 * 1024 * 1024

_lock = threading.Lock()
# Each function's code, marshalled, by a digest of its text: a run unmarshals only the functions its classes
# need, not every class any run of this user has built.
_kept: dict[bytes, bytes] = {}
_used: set[bytes] = set()
_added = False


def install(where: Path | None) -> None:
    """Serve ``dataclasses``' compiles from the cache in ``where``, a directory only this user can use
    (``user_cache.private_dir``); None, as that gives where there is none: compile as before."""
    import dataclasses

    if where is None or getattr(dataclasses, "exec", None) is _exec:
        return
    _kept.update(_read(where / FILE))
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # a module global, found before the builtin
    atexit.register(_save, where / FILE)


def _exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
    global _added
    if not isinstance(source, str) or globals is None:
        return builtins.exec(source, globals if globals is not None else sys._getframe(1).f_globals, locals)
    key = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    blob = _kept.get(key)
    code = _code(blob) if blob is not None else None
    if code is None:
        code = compile(source, "<string>", "exec", dont_inherit=True)
        with _lock:
            _kept[key] = marshal.dumps(code)
            _added = True
    _used.add(key)
    return builtins.exec(code, globals, locals)


def _code(blob: bytes) -> types.CodeType | None:
    try:
        code = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


def _header() -> bytes:
    return FORMAT + importlib.util.MAGIC_NUMBER + b"\n"


def _read(path: Path) -> dict[bytes, bytes]:
    try:
        blob = read_regular(path, MAX_FILE_BYTES)
    except Unreadable:
        return {}
    header = _header()
    if not blob.startswith(header):
        return {}
    try:
        found = marshal.loads(memoryview(blob)[len(header):])
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, bytes) and isinstance(v, bytes)}


def _save(path: Path) -> None:
    if not _added:
        return
    with _lock:
        keep = dict(_kept) if len(_kept) <= MAX_ENTRIES else {k: _kept[k] for k in _used if k in _kept}
    write_whole(path, _header() + marshal.dumps(keep))  # one that cannot be written: the next run compiles
