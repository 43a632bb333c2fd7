"""The botocore model cache: real botocore data files, real botocore loaders, real processes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import JSONFileLoader, Loader

from tscloud_py.aws import model_cache
from tscloud_py.aws.model_cache import CachingFileLoader, create_loader

DATA = Path(Loader.BUILTIN_DATA_PATH)
REPO = Path(__file__).resolve().parents[2]


def _ordered(value: Any) -> Any:
    """``value`` with every mapping as a list of pairs: equal only where the key order is equal too."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def _latest(service: str) -> str:
    return str(Loader().determine_latest_version(service, "service-2"))


def _real_files() -> list[str]:
    s3 = f"s3/{_latest('s3')}"
    return [f"{s3}/service-2", f"{s3}/endpoint-rule-set-1", f"{s3}/paginators-1", "partitions", "endpoints"]


def _entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("name", _real_files())
def test_a_hit_returns_what_botocore_parses(tmp_path: Path, name: str) -> None:
    expected = JSONFileLoader().load_file(str(DATA / name))
    cold = CachingFileLoader(tmp_path).load_file(str(DATA / name))
    assert len(_entries(tmp_path)) == 1
    warm = CachingFileLoader(tmp_path).load_file(str(DATA / name))
    assert cold == expected and warm == expected
    assert _ordered(warm) == _ordered(expected) == _ordered(cold)
    assert json.dumps(warm) == json.dumps(expected)


def test_a_missing_file_is_none_as_in_botocore(tmp_path: Path) -> None:
    assert CachingFileLoader(tmp_path).load_file(str(DATA / "no-such-file")) is None
    assert JSONFileLoader().load_file(str(DATA / "no-such-file")) is None


def _copy_partitions(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy2(DATA / "partitions.json", data / "partitions.json")
    return data / "partitions"


def _marked(path: Path, mark: str) -> None:
    """Put a new file (another inode) in place of the copy, with its first region renamed ``mark``."""
    file = path.parent / "partitions.json"
    (path.parent / "new.json").write_text(file.read_text().replace("us-east-1", mark, 1))
    os.replace(path.parent / "new.json", file)


def test_a_changed_file_misses(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    base = _copy_partitions(tmp_path)
    file = base.parent / "partitions.json"
    first = CachingFileLoader(cache).load_file(str(base))
    info = file.stat()

    # the same size and mtime, another inode: a copy put in its place
    _marked(base, "us-east-9")
    os.utime(file, ns=(info.st_atime_ns, info.st_mtime_ns))
    changed = CachingFileLoader(cache).load_file(str(base))
    assert "us-east-9" in json.dumps(changed) and changed != first

    # the same inode and size, another mtime
    with open(file, "r+") as f:
        text = f.read().replace("us-east-9", "us-east-8", 1)
        f.seek(0)
        f.write(text)
    os.utime(file, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert "us-east-8" in json.dumps(CachingFileLoader(cache).load_file(str(base)))

    # another size
    _marked(base, "us-east-1-longer")
    assert "us-east-1-longer" in json.dumps(CachingFileLoader(cache).load_file(str(base)))


def test_another_botocore_version_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    base = _copy_partitions(tmp_path)
    CachingFileLoader(cache).load_file(str(base))
    assert len(_entries(cache)) == 1
    monkeypatch.setattr(botocore, "__version__", "0.0.0-other")
    CachingFileLoader(cache).load_file(str(base))
    assert len(_entries(cache)) == 2  # a second entry: the first was not taken for this version


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other-key", "bad-marshal"])
def test_a_corrupt_entry_falls_back_and_is_rewritten(tmp_path: Path, damage: str) -> None:
    name = str(DATA / "partitions")
    expected = JSONFileLoader().load_file(name)
    CachingFileLoader(tmp_path).load_file(name)
    (entry,) = _entries(tmp_path)
    good = entry.read_bytes()
    header_end = good.index(b"\n", len(b"tscloud-botocore-model\n"))
    size_end = good.index(b"\n", header_end + 1)
    entry.write_bytes({
        "garbage": b"\x00\xff" * 100,
        "truncated": good[:-10],
        "empty": b"",
        "other-key": good.replace(b"partitions.json", b"partitions.jsoN", 1),
        "bad-marshal": good[:size_end + 1] + b"\xee" * (len(good) - size_end - 1),
    }[damage])
    assert CachingFileLoader(tmp_path).load_file(name) == expected
    assert entry.read_bytes() == good


_WRITER = """
import sys
from pathlib import Path
from tscloud_py.aws.model_cache import CachingFileLoader
for _ in range(3):
    CachingFileLoader(Path(sys.argv[1])).load_file(sys.argv[2])
"""


def test_concurrent_writers_leave_a_readable_cache(tmp_path: Path) -> None:
    name = str(DATA / "s3" / _latest("s3") / "service-2")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), name], env=env) for _ in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    (entry,) = _entries(tmp_path)  # one entry, and no temporary file left behind
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert model_cache._read_entry(entry, model_cache._key(name + ".json.gz", os.stat(name + ".json.gz"))) \
        == JSONFileLoader().load_file(name)


def test_a_missing_cache_dir_is_made_private(tmp_path: Path) -> None:
    cache = tmp_path / "a" / "b"
    CachingFileLoader(cache).load_file(str(DATA / "partitions"))
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in _entries(cache))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_cache_dir_still_loads(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o500)
    try:
        assert CachingFileLoader(cache).load_file(str(DATA / "partitions")) == \
            JSONFileLoader().load_file(str(DATA / "partitions"))
        assert list(cache.iterdir()) == []
    finally:
        cache.chmod(0o700)


def test_a_cache_dir_that_cannot_be_made_still_loads(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    expected = JSONFileLoader().load_file(str(DATA / "partitions"))
    assert CachingFileLoader(blocker / "cache").load_file(str(DATA / "partitions")) == expected


def test_an_unwritable_cache_dir_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root ignores a directory's mode: an entry that cannot be written is simulated at the rename instead
    def refuse(*_: Any) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(os, "replace", refuse)
    expected = JSONFileLoader().load_file(str(DATA / "partitions"))
    assert CachingFileLoader(tmp_path).load_file(str(DATA / "partitions")) == expected
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("service", ["s3", "sqs", "cloudfront", "sts"])
@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1", "paginators-1"])
def test_the_loader_finds_what_botocore_finds(tmp_path: Path, service: str, type_name: str) -> None:
    ours = create_loader(directory=tmp_path)
    # sqs has service-2.sdk-extras.json: the extras are merged in as botocore merges them
    assert _ordered(ours.load_service_model(service, type_name)) == \
        _ordered(Loader().load_service_model(service, type_name))


@pytest.mark.parametrize("service", ["no-such-service", "S3", "s3/../sts", "..", ""])
def test_an_unknown_service_fails_as_in_botocore(tmp_path: Path, service: str) -> None:
    with pytest.raises(UnknownServiceError) as theirs:
        Loader().load_service_model(service, "service-2")
    with pytest.raises(UnknownServiceError) as ours:
        create_loader(directory=tmp_path).load_service_model(service, "service-2")
    assert str(ours.value) == str(theirs.value)


def test_a_custom_search_path_is_honoured(tmp_path: Path) -> None:
    models = tmp_path / "models" / "myservice" / "2020-01-01"
    models.mkdir(parents=True)
    model = {"version": "2.0", "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "mine",
                                            "protocol": "json", "serviceId": "Mine"},
             "operations": {}, "shapes": {}}
    (models / "service-2.json").write_text(json.dumps(model))
    ours = create_loader(str(tmp_path / "models"), directory=tmp_path / "cache")
    assert ours.load_service_model("myservice", "service-2") == model
    assert "myservice" in ours.list_available_services("service-2")


def test_a_session_with_the_cache_builds_clients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for _ in range(2):  # cold, then warm
        session = botocore.session.Session()
        model_cache.install(session)
        client = session.create_client("s3", region_name="eu-west-1", aws_access_key_id="a",
                                        aws_secret_access_key="b")
        assert client.meta.region_name == "eu-west-1"
        assert client.can_paginate("list_objects_v2")
        assert isinstance(session.get_component("data_loader"), model_cache.CachingLoader)
    assert _entries(tmp_path / "tscloud" / "botocore")
