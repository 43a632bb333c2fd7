"""Build the real fixture apps (installed by .ci/run from their lockfiles) in every variant the tests need.

A variant is (app, streaming or buffered, Nitro's built-in entry or the one
`tscloud ssr eject-entry` writes). Builds are cached under
``$TSCLOUD_REALAPPS_CACHE`` (default ~/.cache/tscloud-tests/realapps) by a hash of
everything that goes into them, and serialised per app with a file lock (pytest
runs in two workers).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RIC = HERE / "ric" / "node_modules" / "aws-lambda-ric"
ROUTES = ("/", "/stream", "/empty", "/redirect", "/object", "/cookie", "/db")


@dataclass(frozen=True)
class App:
    name: str
    command: tuple[str, ...]
    sources: tuple[str, ...]  # paths under tests/realapps/ hashed into the build key
    plain_object: bool = True  # can a route return a plain object (not a Response)?

    @property
    def dir(self) -> Path:
        return HERE / self.name

    @property
    def installed(self) -> bool:
        return (self.dir / "node_modules" / ".package-lock.json").is_file()


APPS = {
    "nitro-alpha1": App("nitro-alpha1", ("npx", "--no-install", "nitro", "build"),
                        ("nitro-alpha1/nitro.config.mjs", "nitro-alpha1/package-lock.json", "nitro-routes")),
    "nitro-beta": App("nitro-beta", ("npx", "--no-install", "nitro", "build"),
                      ("nitro-beta/nitro.config.mjs", "nitro-beta/package-lock.json", "nitro-routes")),
    "nitropack2": App("nitropack2", ("npx", "--no-install", "nitropack", "build"),
                      ("nitropack2/nitro.config.mjs", "nitropack2/package-lock.json", "nitro-routes")),
    "tanstack-start": App("tanstack-start", ("npx", "--no-install", "vite", "build"),
                          ("tanstack-start/vite.config.ts", "tanstack-start/package-lock.json",
                           "tanstack-start/src/routes", "tanstack-start/src/router.tsx"), plain_object=False),
}


def cache_root() -> Path:
    return Path(os.environ.get("TSCLOUD_REALAPPS_CACHE") or Path.home() / ".cache" / "tscloud-tests" / "realapps")


def ric_installed() -> bool:
    return (RIC / "dist" / "rapid-client.node").is_file()


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file() and "routeTree.gen" not in p.name)


def _key(app: App, streaming: bool, ejected: bool) -> str:
    h = hashlib.sha256(f"{app.name}:{streaming}:{ejected}".encode())
    for source in app.sources:
        for path in _files(HERE / source):
            h.update(path.relative_to(HERE).as_posix().encode())
            h.update(path.read_bytes())
    if ejected:
        for path in _files(ROOT / "tscloud_py" / "data" / "nitro"):
            h.update(path.read_bytes())
        h.update((ROOT / "tscloud_py" / "build" / "entry_files.py").read_bytes())
    return h.hexdigest()[:16]


@contextmanager
def _app_lock(app: App) -> Iterator[None]:
    cache_root().mkdir(parents=True, exist_ok=True)
    with open(cache_root() / f"{app.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def eject_into(app: App) -> Path:
    """Run `tscloud ssr eject-entry` in the app (as a user would); the entry setting it printed."""
    dest = app.dir / ".ejected"
    out = subprocess.run(
        ["python3", "-m", "tscloud_py", "--output", "json", "ssr", "eject-entry", "--dir", ".ejected", "--force"],
        cwd=app.dir, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"eject-entry failed in {app.dir}: {out.stdout}{out.stderr}")
    assert (dest / "aws-lambda-response-streaming.mjs").is_file()
    return dest


def build(name: str, *, streaming: bool = True, ejected: bool = False) -> Path:
    """The ``.output`` directory of one variant (built now unless cached)."""
    app = APPS[name]
    out = cache_root() / f"{app.name}-{'stream' if streaming else 'buffered'}-{'ejected' if ejected else 'builtin'}" \
        / _key(app, streaming, ejected)
    if (out / "nitro.json").is_file():
        return out
    with _app_lock(app):
        if (out / "nitro.json").is_file():
            return out
        env = {**os.environ, "NITRO_STREAMING": "1" if streaming else "0", "NODE_ENV": "production",
               "CI": "true"}
        env.pop("REALAPP_ENTRY", None)
        if ejected:
            eject_into(app)
            env["REALAPP_ENTRY"] = str(app.dir / ".ejected" / "aws-lambda-response")
        shutil.rmtree(app.dir / ".output", ignore_errors=True)
        if "nitro-routes" in app.sources:
            # Inside the app's root, so Nitro traces (or bundles) the routes' dependencies like pg.
            shutil.rmtree(app.dir / "routes", ignore_errors=True)
            shutil.copytree(HERE / "nitro-routes" / "routes", app.dir / "routes")
        result = subprocess.run(list(app.command), cwd=app.dir, env=env, capture_output=True, text=True,
                                timeout=600, stdin=subprocess.DEVNULL)
        if result.returncode != 0 or not (app.dir / ".output" / "nitro.json").is_file():
            raise RuntimeError(f"{' '.join(app.command)} in {app.dir} failed ({result.returncode}):\n"
                               f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(app.dir / ".output", tmp, symlinks=True)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        shutil.rmtree(app.dir / ".output", ignore_errors=True)
    return out
