"""botocore's data files (service models, endpoint rules, partitions), parsed once per user, not per run.

A client costs botocore a JSON parse of every file it reads: s3's model alone is a megabyte, and parsing
is about half of building the clients of a deploy. Each file parsed is kept as ``marshal`` data under
``tscloud_py/user_cache.py``'s ``botocore``, which reads back several
times faster. ``marshal``, not ``pickle``: loading it builds plain data and never runs code, so an entry
someone else wrote could at worst be wrong data, never a program.

An entry is named by a hash of everything that could make it stale (the entry format, the Python and
botocore versions, the file's path, size, mtime and inode), and begins with that key in full and the
length of what follows: an entry that does not carry the key of the file asked for, or is cut short,
is not used. Entries are written to a temporary file and renamed into place, so a reader sees a whole
entry or none, whatever other processes do at the same time. Anything unreadable (a corrupt entry, a
cache directory that cannot be made or written) falls back to the JSON, and a bad entry is written again.

Both the cold and the warm path return plain ``dict``s where botocore's own loader returns
``OrderedDict``s: the same keys in the same order, which is all botocore relies on (``marshal`` holds
only built-in types, and a dict keeps its order).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import marshal
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import JSONFileLoader, Loader, instance_cache

from tscloud_py.user_cache import private_dir, user_cache_dir

logger = logging.getLogger(__name__)

FORMAT = 1  # changes whenever what an entry holds, or how, changes
_MAGIC = b"tscloud-botocore-model\n"


def cache_dir() -> Path:
    return user_cache_dir("botocore")


def _open_methods() -> dict[str, Callable[..., Any]]:
    import gzip

    from botocore import loaders

    # botocore's own table (which extensions, in which order); the two it has had for years otherwise
    methods = getattr(loaders, "_JSON_OPEN_METHODS", None)
    return dict(methods) if isinstance(methods, dict) else {".json": open, ".json.gz": gzip.open}


class CachingFileLoader(JSONFileLoader):
    """botocore's JSON file loader, reading each file's parsed data from the cache when it is there."""

    def __init__(self, directory: Path | None = None) -> None:
        self._root = directory if directory is not None else cache_dir()
        self._dir: Path | None = None
        self._dir_checked = False
        self._methods = _open_methods()

    def load_file(self, file_path: str) -> Any:
        for ext, open_method in self._methods.items():
            full_path = file_path + ext
            try:
                info = os.stat(full_path)
            except (OSError, ValueError):
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            data = self._load(full_path, info, open_method)
            if data is not None:
                return data
        return None

    def _load(self, full_path: str, info: os.stat_result, open_method: Callable[..., Any]) -> Any:
        directory = self._directory()
        key = _key(full_path, info)
        entry = directory / hashlib.sha256(key).hexdigest()[:40] if directory is not None else None
        if entry is not None:
            data = _read_entry(entry, key)
            if data is not None:
                return data
        with open_method(full_path, "rb") as fp:
            payload = fp.read().decode("utf-8")
        logger.debug("Loading JSON file: %s", full_path)
        data = _without_gc(json.loads, payload)
        if entry is not None and data is not None:
            _write_entry(entry, key, data)
        return data

    def _directory(self) -> Path | None:
        """The cache directory, made 0700 if missing; None where it cannot be made or is not this user's."""
        if not self._dir_checked:
            self._dir_checked = True
            self._dir = private_dir(self._root)
        return self._dir


def _key(full_path: str, info: os.stat_result) -> bytes:
    # mtime and size catch an edited file, the inode one replaced by a copy with both preserved
    return "\0".join(map(str, (
        FORMAT, sys.version_info[:2], botocore.__version__, os.path.abspath(full_path),
        info.st_size, info.st_mtime_ns, info.st_ino))).encode("utf-8", "surrogateescape")


def _read_entry(entry: Path, key: bytes) -> Any:
    try:
        with open(entry, "rb") as f:
            blob = f.read()
    except OSError:
        return None
    header = _MAGIC + key + b"\n"
    if not blob.startswith(header):
        return None
    size_end = blob.find(b"\n", len(header))
    if size_end < 0:
        return None
    body = memoryview(blob)[size_end + 1:]
    try:
        if int(blob[len(header):size_end]) != len(body):
            return None
        return _without_gc(marshal.loads, body)
    except (ValueError, EOFError, TypeError):
        return None


def _without_gc(parse: Callable[[Any], Any], data: Any) -> Any:
    # A model is tens of thousands of new dicts and lists, none of them garbage; in a process that already
    # holds botocore, each pass of the collector over them costs more than the parse.
    if not gc.isenabled():
        return parse(data)
    gc.disable()
    try:
        return parse(data)
    finally:
        gc.enable()


def _write_entry(entry: Path, key: bytes, data: Any) -> None:
    try:
        body = marshal.dumps(data)
    except ValueError:
        return  # not plain data (JSON never gives anything else)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + key + b"\n" + str(len(body)).encode() + b"\n")
            f.write(body)
        os.replace(tmp, entry)
        tmp = None
    except OSError as exc:  # a full disk, a read-only directory: the next run parses the JSON again
        logger.debug("botocore model cache: cannot write %s: %s", entry, exc)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class CachingLoader(Loader):
    """botocore's loader on the caching file loader, and without a scan of every service to load one.

    botocore lists every service directory of every search path (some 400, several stats each) to learn
    whether the one service asked for exists, once per kind of file (model, endpoint rules, ...). Here
    that service's own directory is looked at; only for a service that is not there does botocore's
    listing run, so the error names the known services as botocore's does.
    """

    @instance_cache
    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        if not self._has_service(service_name, type_name):
            return super().load_service_model(service_name, type_name, api_version)
        # Loader.load_service_model from here on, past its listing of every service
        if api_version is None:
            api_version = self.determine_latest_version(service_name, type_name)
        model = self.load_data(os.path.join(service_name, api_version, type_name))
        loader: Any = self  # the extras' helpers are botocore's private attributes, not in its stubs
        loader._extras_processor.process(model, loader._find_extras(service_name, type_name, api_version))
        return model

    def _has_service(self, service_name: str, type_name: str) -> bool:
        """Whether ``list_available_services(type_name)`` would list ``service_name``."""
        if not isinstance(service_name, str) or service_name in ("", ".", "..") or "/" in service_name \
                or os.sep in service_name or (os.altsep and os.altsep in service_name):
            return False
        try:
            for path in self.search_paths:
                directory = os.path.join(path, service_name)
                if not os.path.isdir(directory):
                    continue
                # exactly the name a listing holds (a case-insensitive filesystem finds "S3" too)
                if service_name not in os.listdir(path):
                    continue
                for api_version in os.listdir(directory):
                    if self.file_loader.exists(os.path.join(directory, api_version, type_name)):
                        return True
        except OSError:
            return False
        return False


def create_loader(search_path_string: str | None = None, directory: Path | None = None) -> Loader:
    """``botocore.loaders.create_loader`` (the same search paths, ``AWS_DATA_PATH``'s included), caching."""
    paths = None
    if search_path_string is not None:
        paths = [os.path.expanduser(os.path.expandvars(p)) for p in search_path_string.split(os.pathsep)]
    return CachingLoader(extra_search_paths=paths, file_loader=CachingFileLoader(directory))


def install(session: Any) -> None:
    """Make ``session`` (a botocore session) load its data files through the cache."""
    session.lazy_register_component(
        "data_loader", lambda: create_loader(session.get_config_variable("data_path")))
