"""`tscloud state show|list|migrate|unlock`: the lock and journals in the state backend."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext
    from tscloud_py.state.backend import StateBackend


def confirm_lock_break(app: AppContext, scope: str, holder: dict[str, Any]) -> bool:
    """Ask before breaking a lock whose holder's lease is live (it may still be deploying)."""
    from tscloud_py.state.file_lock import describe_holder

    if app.yes:
        return True
    if app.json or not sys.stdin.isatty():
        raise UsageError(f"--yes: the lock of {scope} is live (held by {describe_holder(holder)}); breaking it "
                         "asks for confirmation, so pass --yes when not on a terminal")
    return click.confirm(f"{scope} is locked by {describe_holder(holder)}, whose lease is live. Break it?")


def _backend(app: AppContext) -> tuple[StateBackend, str]:
    from tscloud_py.state.backend import StateBackend

    config = app.config()
    aws = app.factory(config.region)
    return StateBackend.choose(app, aws, config), f"{config.app}-{config.stage} ({aws.region})"


def _lock_info(backend: StateBackend) -> dict[str, Any] | None:
    from tscloud_py.state.object_store import lease_left, lock_key, parse_holder

    if backend.store is None:
        from tscloud_py.state.file_lock import RunLock

        holder = RunLock(backend.local_dir / "lock", scope="").holder()
        return {"holder": holder} if holder else None
    current = backend.store.get(lock_key(backend.app, backend.stage))
    if current is None:
        return None
    holder = parse_holder(current.body)
    return {"holder": holder, "lease": lease_left(current, holder), "age_seconds": round(current.age, 1)}


def _journal_info(backend: StateBackend) -> dict[str, Any] | None:
    import time

    from tscloud_py.state import validate

    store = backend.journal_store()
    try:
        data = validate.journal(store.load(), app=backend.app, stage=backend.stage)
    except validate.Malformed as exc:
        return {"where": store.where, "malformed": str(exc)}
    if data is None:
        return None
    age = getattr(store, "age", None)
    path = getattr(store, "path", None)
    if age is None and path is not None:
        age = time.time() - path.stat().st_mtime
    last = data.get("last_run") or {}
    return {"where": store.where, "age_seconds": round(age or 0.0, 1), "steps": len(data.get("steps", {})),
            "last_run": {k: last.get(k) for k in ("kind", "ok", "ended") if k in last} or None}


@click.group()
def state() -> None:
    """The lock holder and lease, the journals in the state bucket, moving a local journal there."""


@state.command()
@pass_app
def show(app: AppContext) -> None:
    """Who holds this stage's lock (and its lease), and how old its journal is."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.state.file_lock import describe_holder

    backend, scope = _backend(app)
    lock, journal = _lock_info(backend), _journal_info(backend)
    if app.json:
        print_json({"backend": backend.kind, "where": backend.where, "lock": lock, "journal": journal})
        return
    echo(f"{scope}: state in {backend.where} ({backend.kind})")
    if lock is None:
        echo("  lock: free")
    else:
        lease = f", lease {lock['lease']}" if "lease" in lock else ""
        echo(f"  lock: held by {describe_holder(lock['holder'])}{lease}")
    if journal is None:
        echo("  journal: none")
    elif "malformed" in journal:
        echo(f"  journal: {journal['malformed']}; the next deploy or destroy sets it aside")
    else:
        last = journal["last_run"] or {}
        ran = f", last {last.get('kind')} {'ok' if last.get('ok') else 'failed'}" if last else ""
        echo(f"  journal: {journal['steps']} steps, written {journal['age_seconds']:.0f}s ago{ran}")


@state.command(name="list")
@pass_app
def list_(app: AppContext) -> None:
    """The apps and stages with a journal or a lock in the state bucket."""
    from tscloud_py.cli.ui import echo, print_json

    backend, _scope = _backend(app)
    if backend.store is None:
        raise UsageError("state list: the state backend is local; `tscloud state show` shows this stage")
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key in backend.store.keys("journals/"):
        parts = key.removeprefix("journals/").removesuffix(".json").split("/")
        if len(parts) == 2:
            rows.setdefault((parts[0], parts[1]), {"locked": False})["journal"] = True
    for key in backend.store.keys("locks/"):
        parts = key.removeprefix("locks/").split("/")
        if len(parts) == 2:
            rows.setdefault((parts[0], parts[1]), {"journal": False})["locked"] = True
    items = [{"app": a, "stage": s, "journal": r.get("journal", False), "locked": r["locked"]}
             for (a, s), r in sorted(rows.items())]
    if app.json:
        print_json({"where": backend.where, "stages": items})
        return
    if not items:
        echo(f"{backend.where}: no apps yet", err=True)
    for item in items:
        echo(f"{item['app']:<30} {item['stage']:<16} {'locked' if item['locked'] else ''}")


@state.command()
@pass_app
def migrate(app: AppContext) -> None:
    """Move this stage's local journal into the state bucket (once; a second run changes nothing)."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.state import validate
    from tscloud_py.state.journal import FileJournalStore
    from tscloud_py.state.object_store import Conflict, journal_key

    backend, scope = _backend(app)
    if backend.store is None:
        raise UsageError("state migrate: the state backend is local; set [state] backend = \"s3\" (the default)")
    local = FileJournalStore(backend.local_dir / "journal.json")
    moved = backend.local_dir / "journal.json.migrated"
    try:
        data = validate.journal(local.load(), app=backend.app, stage=backend.stage)
    except validate.Malformed as exc:
        raise UsageError(f"state migrate: the journal {local.where} {exc}; nothing was migrated",
                         "a deploy sets it aside and rebuilds it from what AWS reports") from None
    key = journal_key(backend.app, backend.stage)
    result = "nothing to migrate"
    if data is not None:
        with _held(app, backend, scope):
            if backend.store.get(key) is not None:
                result = "the bucket already has a journal for this stage; the local one was left in place"
            else:
                try:
                    backend.store.create(key, json.dumps(data, indent=2, sort_keys=True, default=str).encode())
                    local.path.replace(moved)
                    result = f"moved {local.path} to {backend.store.where}/{key}"
                except Conflict:
                    result = "the bucket already has a journal for this stage; the local one was left in place"
    elif moved.exists():
        result = "already migrated"
    if app.json:
        print_json({"result": result, "where": f"{backend.store.where}/{key}"})
    else:
        echo(f"{scope}: {result}")


def _held(app: AppContext, backend: StateBackend, scope: str) -> Any:
    """The stage's lock, held while migrating so no deploy writes the journal meanwhile."""
    return backend.lock(scope=scope, force=False, confirm_break=None)


@state.command()
@pass_app
def unlock(app: AppContext) -> None:
    """Break this stage's lock (asks first, unless --yes): for a run that died or hangs."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.state.file_lock import describe_holder
    from tscloud_py.state.object_store import lock_key, parse_holder

    backend, scope = _backend(app)
    broke: dict[str, Any] | None = None
    if backend.store is None:
        path = backend.local_dir / "lock"
        info = _lock_info(backend)
        if info is not None and confirm_lock_break(app, scope, info["holder"]):
            path.unlink(missing_ok=True)
            broke = info["holder"]
    else:
        from tscloud_py.state.object_store import Conflict

        current = backend.store.get(lock_key(backend.app, backend.stage))
        if current is not None:
            holder = parse_holder(current.body)
            if confirm_lock_break(app, scope, holder):
                try:
                    # On the ETag we showed: a lock taken meanwhile by someone else stays.
                    backend.store.delete(lock_key(backend.app, backend.stage), current.etag)
                except Conflict:
                    raise UsageError(f"state unlock: the lock of {scope} changed hands meanwhile; look again with "
                                     "`tscloud state show`") from None
                broke = holder
    if app.json:
        print_json({"unlocked": broke is not None, "holder": broke})
    elif broke is None:
        echo(f"{scope}: the lock is free")
    else:
        echo(f"{scope}: broke the lock of {describe_holder(broke)}")


def register(group: click.Group) -> None:
    group.add_command(state)
