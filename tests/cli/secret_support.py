"""What the secret tests share: a stage whose commands run against its own per-user emulator, with a HOME
and TMPDIR of their own (so a scan of those finds what the commands left, not the emulator's state, where
the value lives locally as it does in AWS remotely), and the scans for a value. A piece of 6 characters is
enough to count (the redaction layer masks runs of 8, so a leak shows as less)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.cli.site_support import boto
from tests.conftest import CliResult, run_cli


def pieces(secret: str, text: str, size: int = 6) -> list[str]:
    return [secret[i:i + size] for i in range(len(secret) - size + 1) if secret[i:i + size] in text]


def files_holding(secret: str, *roots: Path) -> list[str]:
    return [str(p) for root in roots for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and not _botocore_data(p)
            and pieces(secret, p.read_bytes().decode(errors="replace"))]


def _botocore_data(path: Path) -> bool:
    """botocore's own data files, parsed and kept by ``aws/model_cache.py``: written only from botocore's
    package, never from anything a run holds, and megabytes of API documentation in which a six-letter
    piece of any value turns up by chance."""
    return path.parent.name == "botocore" and path.parent.parent.name == "tscloud" and \
        path.read_bytes().startswith(b"tscloud-botocore-model\n")


@dataclass
class Stage:
    root: Path
    project: Path
    env: dict[str, str]
    app: str
    outputs: list[str] = field(default_factory=list)  # everything the commands printed, for the scans

    def cli(self, *args: str, project: Path | None = None, stdin: str | None = None) -> CliResult:
        result = run_cli("--local", *args, cwd=project or self.project, env=self.env, input=stdin, timeout=300)
        self.outputs.append(result.output)
        return result

    @property
    def endpoint(self) -> str:
        """The stage's own emulator (started by its first command)."""
        found = json.loads((self.root / "state" / "tscloud" / "emulator" / "emulator.json").read_text())
        return str(found["endpoint"])

    def first_deploy(self, unused_value: str) -> None:
        """Set UNUSED_KEY, a secret of the stage that nothing references (so no role may read it), and
        deploy."""
        unused = self.cli("secret", "set", "UNUSED_KEY", stdin=unused_value)
        assert unused.code == 0, unused.output
        first = self.cli("-v", "deploy")
        assert first.code == 0, first.output[-3000:]

    def secret_arn(self, name: str) -> str:
        found = boto(self.endpoint, "secretsmanager").describe_secret(SecretId=f"tscloud/{self.app}/dev/{name}")
        return str(found["ARN"])


@contextmanager
def own_emulator(root: Path) -> Iterator[dict[str, str]]:
    """The environment of commands with their own HOME, TMPDIR and emulator (stopped afterwards)."""
    home, tmp, state = root / "home", root / "tmp", root / "state"
    for d in (home, tmp, state):
        d.mkdir()
    try:
        yield {"HOME": str(home), "TMPDIR": str(tmp), "XDG_STATE_HOME": str(state)}
    finally:
        from tscloud_py.emulator.daemon import stop

        if (state / "tscloud" / "emulator" / "emulator.json").exists():
            stop(state / "tscloud" / "emulator")
