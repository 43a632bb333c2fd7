"""The journal: each step's last outputs and input fingerprint, written atomically.

Written the moment a step finishes (temp file, fsync, rename, fsync of the
directory), so a crash leaves either the old or the new journal, never a torn
one. The journal is a cache of what reality said: deleting it must never cause
duplicates, because every step reads reality first.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

JOURNAL_VERSION = 1


class Journal:
    def __init__(self, path: Path, *, app: str, stage: str, preset: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.data: dict[str, Any] = {
            "version": JOURNAL_VERSION,
            "app": app,
            "stage": stage,
            "preset": preset,
            "steps": {},
        }
        if path.exists():
            try:
                loaded = json.loads(path.read_text())
                if isinstance(loaded, dict) and loaded.get("version") == JOURNAL_VERSION:
                    self.data["steps"] = dict(loaded.get("steps", {}))
                    self.data["last_run"] = loaded.get("last_run")
            except (OSError, ValueError):
                # A corrupt journal is only a lost cache: reality is read anyway.
                pass

    @property
    def steps(self) -> dict[str, dict[str, Any]]:
        return self.data["steps"]

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {sid: dict(rec.get("outputs", {})) for sid, rec in self.steps.items()}

    def record(self, step_id: str, *, status: str, outputs: dict[str, Any], fingerprint: str) -> None:
        with self._lock:
            self.steps[step_id] = {
                "status": status,
                "outputs": outputs,
                "fingerprint": fingerprint,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            self._write()

    def forget(self, step_id: str) -> None:
        with self._lock:
            self.steps.pop(step_id, None)
            self._write()

    def mark_run(self, summary: dict[str, Any]) -> None:
        with self._lock:
            self.data["last_run"] = summary
            self._write()

    def _write(self) -> None:
        atomic_write_json(self.path, self.data)


def atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
