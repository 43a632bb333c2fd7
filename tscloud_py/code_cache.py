"""What Python compiles again in every run, compiled once per user: dataclasses' methods and regular expressions.

Python 3.11's ``dataclasses`` makes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and (for a
frozen class) ``__setattr__`` and ``__delattr__`` from source text, one ``exec`` each: a compile of a few
lines, some 230 of them as a deploy starts. That was half of the CPU tscloud's own modules cost to
import, about 30 ms of every command. ``re`` compiles each pattern a module uses (botocore's, urllib3's,
the email package's, tscloud's own) to the program its matcher runs: some 140 of them before a deploy's
first request, about 20 ms. The texts are the same in every run, and so is what they compile to.

``install()`` gives the ``dataclasses`` module an ``exec`` of its own, which it finds before the builtin:
a text seen before runs from its kept code object, a new one is compiled as the builtin would (the same
file name, ``<string>``, and no inherited ``__future__`` flags: ``dataclasses`` has none) and kept. It
gives ``re`` a compile of its own too (``re._compiler.compile``, which ``re`` calls for a pattern it has
not compiled in this process): a pattern seen before is built from its kept program by the matcher's own
constructor (``_sre.compile``, which checks a program before it accepts it), a new one is compiled by
``re`` and its program kept. What the constructor is given is taken from ``re``'s own call to it, not
computed again here.

Each cache is one file in the user's cache (``__main__`` names ``user_cache.py``'s ``compiled``): each
entry marshalled by a digest of its text, read at install (a run unmarshals only the entries it uses)
and written back at exit when the run compiled something new. A file is used only in a directory only
this user can use (``user_cache.private_dir``: the trust Python gives the ``__pycache__`` whose code it
runs), as a regular file (``files.read_regular``) written by this Python (its bytecode magic number, and
for patterns its matcher's version) in this format; anything else is ignored and written again
(``files.write_whole``).

A Python whose ``dataclasses`` no longer calls ``exec`` by name, or whose ``re`` no longer builds a
pattern through ``_sre.compile``, compiles as before: nothing breaks, the cache is only unused.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tscloud_py.files import Unreadable, read_regular, write_whole

FORMAT = b"tscloud-code-cache 2\n"
FILE = "dataclasses.marshal"
REGEX_FILE = "regex.marshal"
MAX_ENTRIES = 4096  # a file grown past this (many versions of many classes) starts over with this run's
MAX_FILE_BYTES = 64 * 1024 * 1024


class _Kept:
    """One cache file's entries: marshalled values by a digest of what they were compiled from."""

    def __init__(self, path: Path, header: bytes) -> None:
        self.path = path
        self.header = header
        self.lock = threading.Lock()
        # Marshalled, not loaded: a run unmarshals only what it uses, not all that any run of this user kept.
        self.entries = self._read()
        self.used: set[bytes] = set()
        self.added = False

    def get(self, key: bytes) -> bytes | None:
        self.used.add(key)
        return self.entries.get(key)

    def put(self, key: bytes, value: Any) -> None:
        try:
            blob = marshal.dumps(value)
        except ValueError:  # not plain data: not kept
            return
        with self.lock:
            self.entries[key] = blob
            self.added = True

    def _read(self) -> dict[bytes, bytes]:
        try:
            blob = read_regular(self.path, MAX_FILE_BYTES)
        except Unreadable:
            return {}
        if not blob.startswith(self.header):
            return {}
        try:
            found = marshal.loads(memoryview(blob)[len(self.header):])
        except (ValueError, EOFError, TypeError):
            return {}
        if not isinstance(found, dict):
            return {}
        return {k: v for k, v in found.items() if isinstance(k, bytes) and isinstance(v, bytes)}

    def save(self) -> None:
        if not self.added:
            return
        with self.lock:
            keep = dict(self.entries) if len(self.entries) <= MAX_ENTRIES else \
                {k: self.entries[k] for k in self.used if k in self.entries}
        write_whole(self.path, self.header + marshal.dumps(keep))  # one not written: the next run compiles


_dataclasses: _Kept | None = None
_regex: _Kept | None = None


def install(where: Path | None) -> None:
    """Serve ``dataclasses``' and ``re``'s compiles from the cache in ``where``, a directory only this user
    can use (``user_cache.private_dir``); None, as that gives where there is none: compile as before."""
    global _dataclasses
    import dataclasses

    if where is None or getattr(dataclasses, "exec", None) is _exec:
        return
    _dataclasses = _Kept(where / FILE, _header())
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # a module global, found before the builtin
    atexit.register(_dataclasses.save)
    _install_regex(where / REGEX_FILE)


def _header() -> bytes:
    return FORMAT + importlib.util.MAGIC_NUMBER + b"\n"


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


# -- dataclasses ---------------------------------------------------------------------------------------
def _exec(source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
    kept = _dataclasses
    if not isinstance(source, str) or globals is None or kept is None:
        return builtins.exec(source, globals if globals is not None else sys._getframe(1).f_globals, locals)
    key = _digest(source.encode("utf-8", "surrogatepass"))
    blob = kept.get(key)
    code = _code(blob) if blob is not None else None
    if code is None:
        code = compile(source, "<string>", "exec", dont_inherit=True)
        kept.put(key, code)
    return builtins.exec(code, globals, locals)


def _code(blob: bytes) -> types.CodeType | None:
    try:
        code = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


# -- regular expressions -------------------------------------------------------------------------------
class _Recording(types.ModuleType):
    """``re._compiler``'s view of ``_sre``: everything as it is, except that ``compile`` also hands what
    it was given to the thread that asked for the pattern."""

    def __init__(self, sre: types.ModuleType) -> None:
        super().__init__(sre.__name__)
        self._sre = sre
        self._seen = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sre, name)

    def compile(self, *args: Any) -> Any:
        self._seen.args = args
        return self._sre.compile(*args)

    def take(self) -> tuple[Any, ...] | None:
        args: tuple[Any, ...] | None = getattr(self._seen, "args", None)
        self._seen.args = None
        return args


def _install_regex(path: Path) -> None:
    global _regex
    try:
        sre: Any = importlib.import_module("_sre")
        compiler: Any = importlib.import_module("re._compiler")
    except ImportError:
        return
    real = getattr(compiler, "compile", None)
    # re._compiler builds its patterns with the matcher module itself, by its compile
    if vars(compiler).get("_sre") is not sys.modules.get("_sre") or not callable(real) or \
            not isinstance(getattr(sre, "MAGIC", None), int):
        return
    _regex = _Kept(path, _header() + f"sre {sre.MAGIC} {sre.CODESIZE} {sys.maxunicode}\n".encode())
    recording = _Recording(sre)
    compiler._sre = recording
    compiler.compile = _regex_compile(real, recording, sre.compile, _regex)
    atexit.register(_regex.save)


def _regex_compile(real: Callable[..., Any], recording: _Recording, build: Callable[..., Any],
                   kept: _Kept) -> Callable[..., Any]:
    import re

    def compile(p: Any, flags: int = 0) -> Any:
        if isinstance(p, str):
            text = b"s" + p.encode("utf-8", "surrogatepass")
        elif isinstance(p, bytes):
            text = b"b" + p
        else:  # a parsed pattern (re's own internals): nothing to key it by
            return real(p, flags)
        if flags & re.DEBUG:  # compiling prints the program: that is what was asked for
            return real(p, flags)
        key = _digest(text + b"\0" + str(int(flags)).encode())
        blob = kept.get(key)
        if blob is not None:
            try:
                return build(p, *marshal.loads(blob))
            except Exception:  # not a program this matcher accepts: compiled again below
                pass
        recording.take()
        pattern = real(p, flags)
        args = recording.take()
        if args is not None and len(args) == 6 and args[0] is p:
            # flags, program, groups, group names both ways; the flags and opcodes as the ints they are
            final, program, groups, groupindex, indexgroup = args[1:]
            kept.put(key, (int(final), [int(op) for op in program], groups, dict(groupindex), indexgroup))
        return pattern

    return compile
