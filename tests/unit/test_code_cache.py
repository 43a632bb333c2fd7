"""code_cache.py: the functions dataclasses generates are compiled once per user. Each case runs in a fresh
interpreter (the cache is installed into the process's ``dataclasses`` module), with an audit hook that
counts the compiles a dataclass's creation makes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PROGRAM = """
import sys
from pathlib import Path
compiles = []
sys.addaudithook(lambda event, args: compiles.append(1) if event == "compile" and args[1] == "<string>" else None)
from tscloud_py import code_cache
code_cache.install(Path(sys.argv[1]) if sys.argv[1] != "-" else None)
import dataclasses
start = len(compiles)

@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int = 2

@dataclasses.dataclass
class Box:
    items: list = dataclasses.field(default_factory=list)

p = Point(1)
assert (p, repr(p), hash(p) == hash(Point(1, 2)), Box().items) == (Point(1, 2), "Point(x=1, y=2)", True, [])
try:
    p.x = 3
except dataclasses.FrozenInstanceError:
    pass
else:
    raise SystemExit("frozen class was written")
print(len(compiles) - start)
import atexit
atexit._run_exitfuncs()
"""


def _run(where: str, home: Path) -> int:
    done = subprocess.run([sys.executable, "-c", PROGRAM, where], capture_output=True, text=True, timeout=60,
                          cwd=REPO, env={**os.environ, "XDG_CACHE_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_the_second_run_compiles_nothing_and_its_classes_behave_the_same(tmp_path: Path) -> None:
    where = tmp_path / "compiled"
    where.mkdir(mode=0o700)
    first = _run(str(where), tmp_path)
    assert first >= 9  # Point: init, repr, eq, hash, setattr, delattr; Box: init, repr, eq
    assert (where / "dataclasses.marshal").is_file()
    assert _run(str(where), tmp_path) == 0


def test_without_a_directory_everything_is_compiled_as_before(tmp_path: Path) -> None:
    assert _run("-", tmp_path) >= 9


def test_a_file_another_python_or_a_hand_wrote_or_cut_short_is_not_used_and_is_written_again(tmp_path: Path) -> None:
    where = tmp_path / "compiled"
    where.mkdir(mode=0o700)
    kept = where / "dataclasses.marshal"
    _run(str(where), tmp_path)
    whole = kept.read_bytes()
    from tscloud_py.code_cache import FORMAT

    for foreign in (FORMAT + b"\x00\x00\r\n\n" + whole[len(FORMAT) + 5:],  # another Python's magic number
                    b"not a cache at all",
                    whole[: len(whole) // 2]):
        kept.write_bytes(foreign)
        assert _run(str(where), tmp_path) >= 9
        assert _run(str(where), tmp_path) == 0  # the first of the two wrote a whole file again


def test_the_users_cache_directory_is_made_private(tmp_path: Path) -> None:
    from tscloud_py.user_cache import private_dir

    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    os.chmod(loose, 0o777)
    assert private_dir(loose) == loose
    assert loose.stat().st_mode & 0o777 == 0o700
