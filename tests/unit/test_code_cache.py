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


REGEX_PROGRAM = """
import sys
from pathlib import Path
import re, re._parser
parsed = []
real_parse = re._parser.parse
re._parser.parse = lambda p, flags=0, state=None: (parsed.append(p), real_parse(p, flags, state))[1]
from tscloud_py import code_cache
code_cache.install(Path(sys.argv[1]) if sys.argv[1] != "-" else None)
PATTERNS = [
    (r"(?P<year>\\d{4})-(?P<month>\\d\\d)", 0, "on 2026-12 and 2027-01"),
    (r"hello\\s+(world|there)", re.IGNORECASE, "HELLO   There"),
    (r" a  b # spaced out\\n c", re.VERBOSE, "xabcx"),
    (rb"\\x00(?P<tag>[a-z]+)\\x00", 0, b"..\\x00abc\\x00.."),
    (r"^\\w+$", re.MULTILINE | re.ASCII, "one\\ntwo\\nthree"),
]
seen = []
for text, flags, subject in PATTERNS:
    p = re.compile(text, flags)
    assert (p.pattern, p.flags & flags) == (text, flags)
    seen.append((p.groups, dict(p.groupindex), [m.group(0) for m in p.finditer(subject)],
                 [m.groupdict() for m in p.finditer(subject)]))
print(repr(seen))
print(sum(1 for text, _, _ in PATTERNS if text in parsed))
import atexit
atexit._run_exitfuncs()
"""


def _run_regex(where: str, home: Path) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", REGEX_PROGRAM, where], capture_output=True, text=True, timeout=60,
                          cwd=REPO, env={**os.environ, "XDG_CACHE_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    seen, parsed = done.stdout.strip().splitlines()
    return seen, int(parsed)


def test_a_pattern_compiled_once_is_built_from_its_kept_program_and_matches_the_same(tmp_path: Path) -> None:
    where = tmp_path / "compiled"
    where.mkdir(mode=0o700)
    uncached, parsed = _run_regex("-", tmp_path)
    assert parsed == 5
    first, parsed = _run_regex(str(where), tmp_path)
    assert (first, parsed) == (uncached, 5) and (where / "regex.marshal").is_file()
    second, parsed = _run_regex(str(where), tmp_path)
    assert (second, parsed) == (uncached, 0)


def test_a_kept_program_the_matcher_refuses_is_compiled_again(tmp_path: Path) -> None:
    import marshal

    where = tmp_path / "compiled"
    where.mkdir(mode=0o700)
    expected, _ = _run_regex(str(where), tmp_path)
    kept = where / "regex.marshal"
    whole = kept.read_bytes()
    header = whole[: whole.index(b"\nsre ") + 1]
    header += whole[len(header):].split(b"\n", 1)[0] + b"\n"
    entries = marshal.loads(whole[len(header):])
    # Each entry's program cut short: the matcher's own check refuses it rather than run it.
    broken = {k: marshal.dumps((lambda e: (e[0], e[1][: len(e[1]) // 2], *e[2:]))(marshal.loads(v)))
              for k, v in entries.items()}
    kept.write_bytes(header + marshal.dumps(broken))
    again, parsed = _run_regex(str(where), tmp_path)
    assert (again, parsed) == (expected, 5)


def test_a_pattern_compiled_for_its_debug_listing_is_compiled_every_time(tmp_path: Path) -> None:
    where = tmp_path / "compiled"
    where.mkdir(mode=0o700)
    program = ("import sys, re\nfrom pathlib import Path\nfrom tscloud_py import code_cache\n"
               "code_cache.install(Path(sys.argv[1]))\nre.compile('ab+c', re.DEBUG)\n"
               "import atexit\natexit._run_exitfuncs()\n")
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", program, str(where)], capture_output=True, text=True,
                              timeout=60, cwd=REPO)
        assert done.returncode == 0, done.stderr
        assert "LITERAL 97" in done.stdout  # the listing is printed on every compile
