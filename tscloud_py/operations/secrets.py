"""The stage's own secrets (`tscloud secret ...`): ``tscloud/{app}/{stage}/NAME`` in Secrets Manager.

A value enters only through ``set_secret`` (from stdin, a hidden prompt or a file, read by the CLI) and
leaves only through ``reveal``; both register it with the redaction layer first. Nothing here writes a
value to disk or returns it in a result: results carry names, ARNs, version ids and dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tscloud_py import redact
from tscloud_py.aws.waiters import ProgressCallback
from tscloud_py.config.schema import Config
from tscloud_py.config.tables.common import ENV_NAME, stage_secret
from tscloud_py.errors import UsageError
from tscloud_py.operations.context import AppContext
from tscloud_py.presets.naming import Names

if TYPE_CHECKING:
    from tscloud_py.presets import Preset

# Secrets Manager's limits on the recovery window of a scheduled deletion
RECOVERY_DAYS = (7, 30)
# a KMS key's id or ARN (an alias names no key an IAM policy can grant Decrypt on)
_KEY_ARN = r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/)?"
KMS_KEY = _KEY_ARN + r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})"
# SecretString's limit
MAX_VALUE_BYTES = 65536


@dataclass
class StageSecrets:
    """The stage's secrets as the config and the account see them."""

    config: Config
    names: Names
    client: Any  # aws.secrets.Secrets
    factory: Any  # aws.session.ClientFactory

    @classmethod
    def open(cls, app: AppContext) -> StageSecrets:
        from tscloud_py.aws.secrets import Secrets

        config = app.config()
        factory = app.factory(config.region)
        return cls(config, Names(config.app, config.stage, factory.region), Secrets(factory), factory)

    def name(self, secret: str) -> str:
        return self.names.secret(secret)

    def preset(self) -> Preset:
        from tscloud_py.presets import load_preset

        return load_preset(self.config, self.factory)

    def users(self) -> dict[str, list[str]]:
        """NAME -> the steps that read the stage's secret NAME (``secret:NAME`` in the config)."""
        out: dict[str, list[str]] = {}
        for step_id, reader in self.preset().secret_readers().items():
            for ref in reader.refs.values():
                own = stage_secret(ref)
                if own is not None and step_id not in out.setdefault(own, []):
                    out[own].append(step_id)
        return out


def check_name(secret: str) -> None:
    """A stage secret's NAME is an environment variable's name. The refusal never repeats what was given:
    a value typed where the name goes must not be echoed."""
    if not re.fullmatch(ENV_NAME, secret) or len(secret) > 128:
        raise UsageError("NAME: expected a name like STRIPE_KEY (letters, digits and _); the value is read "
                         "from stdin, a hidden prompt or --from-file, never from the command line")


def check_set(secret: str, kms_key: str | None) -> None:
    """What `secret set` is given besides the value, checked before the value is asked for."""
    check_name(secret)
    if kms_key is not None and not re.fullmatch(KMS_KEY, kms_key):
        raise UsageError(f"--kms-key: expected a key id or key ARN, got {kms_key!r} (the task's execution role "
                         "is granted kms:Decrypt on the key itself, which an alias does not name)")


@dataclass
class SetResult:
    name: str
    secret_name: str
    arn: str
    version: str
    users: list[str]
    rolled: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def set_secret(stage: StageSecrets, secret: str, value: str, *, kms_key: str | None, roll: bool,
               offer: Callable[[list[str]], bool] | None = None,
               progress: ProgressCallback | None = None) -> SetResult:
    """Store ``value`` as the stage's ``secret`` (created, or a new current version); with ``roll`` (or
    when ``offer``, asked with the steps that read it, says yes), restart the services whose tasks read
    it, so they hold the new value."""
    check_set(secret, kms_key)
    redact.register(value)
    if not value:
        raise UsageError("value: empty; give the secret's value on stdin, at the prompt or in --from-file")
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise UsageError(f"value: longer than Secrets Manager's {MAX_VALUE_BYTES} bytes")
    names = stage.names
    stored = stage.client.put(stage.name(secret), value, names.description(f"secret {secret}"),
                              {**names.owner_tags(), "tscloud:secret": secret}, kms_key=kms_key)
    users = stage.users().get(secret, [])
    result = SetResult(secret, stage.name(secret), stored["arn"], stored["version"], users)
    if not roll and users and offer is not None:
        roll = offer(users)
    if roll:
        if not users:
            result.notes.append(f"--roll: no step of {names.prefix} reads secret:{secret}; nothing to restart")
        else:
            result.rolled, missing = stage.preset().refresh_secret_readers(users, progress)
            result.notes += [f"--roll: {m} is not deployed; its first deploy reads the new value" for m in missing]
    elif users:
        result.notes.append("what runs keeps the value it started with until its next rollout or deploy "
                            "(`--roll` refreshes it now)")
    return result


def list_secrets(stage: StageSecrets) -> list[dict[str, Any]]:
    """Each of the stage's secrets: its name, when it last changed and which steps read it; and each
    secret the config references that is not set (``set``: false). Never a value."""
    prefix = stage.name("")
    users = stage.users()
    out = []
    for found in stage.client.under(prefix):
        secret = str(found["Name"])[len(prefix):]
        if not re.fullmatch(ENV_NAME, secret):
            continue  # tscloud's own (origin-verify, redis-auth): not the user's to manage here
        changed = found.get("LastChangedDate") or found.get("CreatedDate")
        out.append({"name": secret, "set": True, "last_changed": changed.isoformat() if changed else None,
                    "used_by": users.get(secret, [])})
    listed = {s["name"] for s in out}
    out += [{"name": n, "set": False, "last_changed": None, "used_by": u} for n, u in sorted(users.items())
            if n not in listed]
    return out


def remove_secret(stage: StageSecrets, secret: str, *, recovery_days: int, force: bool) -> dict[str, Any]:
    """Schedule the deletion of the stage's ``secret``, restorable for ``recovery_days`` (with
    ``tscloud secret set`` of a new value, or Secrets Manager's RestoreSecret); refused while a step
    reads it, unless ``force``."""
    check_name(secret)
    low, high = RECOVERY_DAYS
    if not low <= recovery_days <= high:
        raise UsageError(f"--recovery-days: expected {low}..{high}, got {recovery_days}")
    users = stage.users().get(secret, [])
    if users and not force:
        raise UsageError(f"secret {secret}: still read by {', '.join(users)} (secret:{secret} in "
                         f"{stage.config.path}); remove the reference first, or pass --force")
    if stage.client.describe(stage.name(secret)) is None:
        raise UsageError(f"secret {secret}: not set in stage {stage.names.stage}")
    when = stage.client.schedule_deletion(stage.name(secret), recovery_days=recovery_days)
    return {"name": secret, "deletion_date": when, "recovery_days": recovery_days, "used_by": users}


def reveal(stage: StageSecrets, secret: str) -> str:
    """The stage's ``secret``'s current value (registered for redaction: only the caller's one print
    shows it)."""
    check_name(secret)
    if stage.client.describe(stage.name(secret)) is None:
        raise UsageError(f"secret {secret}: not set in stage {stage.names.stage}")
    value: str = stage.client.value(stage.name(secret))
    return value
