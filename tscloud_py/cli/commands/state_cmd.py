"""`tscloud state show|list|migrate|unlock`: the lock and journals in the state backend."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from tscloud_py.cli.commands import pass_app
from tscloud_py.cli.face import confirm_lock_break
from tscloud_py.errors import UsageError

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext
    from tscloud_py.state.backend import StateBackend


def _backend(app: AppContext) -> tuple[StateBackend, str]:
    from tscloud_py.operations.state import open_state

    config = app.config()
    backend = open_state(app, app.factory(config.region), config)
    return backend, backend.scope


def _lock_info(backend: StateBackend) -> dict[str, Any] | None:
    """Who holds the lock (``holder``: a ``Holder`` or None when its record is unreadable), and its lease."""
    from tscloud_py.state.lock import Holder
    from tscloud_py.state.object_store import is_released, lease_left, lock_key, parse_record

    if backend.store is None:
        holder = backend.lock.holder()
        return {"holder": holder} if holder else None
    current = backend.store.get(lock_key(backend.app, backend.stage))
    if current is None:
        return None
    record = parse_record(current.body)
    if is_released(record):
        return None
    return {"holder": Holder.from_json(record), "lease": lease_left(current, record),
            "age_seconds": round(current.age, 1)}


def _shown(info: dict[str, Any] | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {**info, "holder": info["holder"].to_json() if info["holder"] is not None else {}}


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
            "last_run": {k: last.get(k) for k in ("kind", "ok", "ended", "pending") if k in last} or None}


@click.group()
def state() -> None:
    """The lock holder and lease, the journals in the state bucket, moving a local journal there."""


@state.command()
@pass_app
def show(app: AppContext) -> None:
    """Who holds this stage's lock (and its lease), and how old its journal is."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.state.lock import describe_holder

    backend, scope = _backend(app)
    lock, journal = _lock_info(backend), _journal_info(backend)
    if app.json:
        print_json({"backend": backend.kind, "where": backend.where, "lock": _shown(lock), "journal": journal})
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
        if last.get("pending"):
            # steps settled by their read, whose answers came after the summary (the run record has them)
            ran += f" ({', '.join(map(str, last['pending']))} in flight as it was written)"
        echo(f"  journal: {journal['steps']} steps, written {journal['age_seconds']:.0f}s ago{ran}")


@state.command(name="list")
@pass_app
def list_(app: AppContext) -> None:
    """The apps and stages with a journal or a lock in the state bucket."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.concurrency import each
    from tscloud_py.state.object_store import is_released, parse_record

    backend, _scope = _backend(app)
    if backend.store is None:
        raise UsageError("state list: the state backend is local; `tscloud state show` shows this stage")
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for key in backend.store.keys("journals/"):
        parts = key.removeprefix("journals/").removesuffix(".json").split("/")
        if len(parts) == 2:
            rows.setdefault((parts[0], parts[1]), {"locked": False})["journal"] = True
    locks = [key for key in backend.store.keys("locks/") if len(key.removeprefix("locks/").split("/")) == 2]
    store = backend.store
    # A stage's lock stays as a released record once given back: only a holder's record is a lock.
    for key, current in zip(locks, each(locks, store.get), strict=True):
        if current is not None and not is_released(parse_record(current.body)):
            app_name, stage = key.removeprefix("locks/").split("/")
            rows.setdefault((app_name, stage), {"journal": False})["locked"] = True
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
        # Held while migrating, so no deploy writes the journal meanwhile.
        backend.lock.acquire()
        try:
            if backend.store.get(key) is not None:
                result = "the bucket already has a journal for this stage; the local one was left in place"
            else:
                try:
                    backend.store.create(key, json.dumps(data, indent=2, sort_keys=True, default=str).encode())
                    local.path.replace(moved)
                    result = f"moved {local.path} to {backend.store.where}/{key}"
                except Conflict:
                    result = "the bucket already has a journal for this stage; the local one was left in place"
        finally:
            backend.lock.release()
    elif moved.exists():
        result = "already migrated"
    if app.json:
        print_json({"result": result, "where": f"{backend.store.where}/{key}"})
    else:
        echo(f"{scope}: {result}")


@state.command()
@pass_app
def unlock(app: AppContext) -> None:
    """Break this stage's lock (asks first, unless --yes): for a run that died or hangs."""
    from tscloud_py.cli.ui import echo, print_json
    from tscloud_py.state.lock import Holder, describe_holder
    from tscloud_py.state.object_store import Conflict, is_released, lock_key, parse_record

    backend, scope = _backend(app)
    broke: Holder | None = None
    unlocked = False
    if backend.store is None:
        path = backend.local_dir / "lock"
        info = _lock_info(backend)
        if info is not None and confirm_lock_break(app, scope, info["holder"]):
            path.unlink(missing_ok=True)
            broke, unlocked = info["holder"], True
    else:
        current = backend.store.get(lock_key(backend.app, backend.stage))
        if current is not None and not is_released(parse_record(current.body)):
            holder = Holder.from_json(parse_record(current.body))
            if confirm_lock_break(app, scope, holder):
                try:
                    # On the ETag we showed: a lock taken meanwhile by someone else stays.
                    backend.store.delete(lock_key(backend.app, backend.stage), current.etag)
                except Conflict:
                    raise UsageError(f"state unlock: the lock of {scope} changed hands meanwhile; look again with "
                                     "`tscloud state show`") from None
                broke, unlocked = holder, True
    if app.json:
        print_json({"unlocked": unlocked, "holder": broke.to_json() if broke is not None else None})
    elif not unlocked:
        echo(f"{scope}: the lock is free")
    else:
        echo(f"{scope}: broke the lock of {describe_holder(broke)}")


def register(group: click.Group) -> None:
    group.add_command(state)
