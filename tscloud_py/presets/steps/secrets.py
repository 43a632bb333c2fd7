"""The secrets a step reads: references in the config resolved to ARNs, the IAM statements that may read
exactly those, and, for a Lambda function, the resolver that reads them when it starts.

One helper per job, shared by every preset whose steps read secrets (docs/DEVELOPING.md, "Secrets a step
reads"):

- ``resolve_refs(refs, key=..., ...)``: ``{VAR: reference as written}`` -> ``{VAR: {"value_from",
  "resource", "kind"[, "kms_key"]}}``. A reference is ``secret:NAME`` (the stage's own secret), ``ssm:``
  a parameter name or ARN, ``secretsmanager:`` a secret name or ARN, or, where a table holds only
  secrets (``[api.secrets]``), a bare secret name or ARN. A missing one is a ``ConfigError`` naming
  ``{key}.{VAR}`` (and ``tscloud secret set NAME`` for the stage's own).
- ``read_statements(resolved, region)``: the policy statements that may read exactly those:
  ``secretsmanager:GetSecretValue`` and ``ssm:GetParameters`` on their ARNs, ``kms:Decrypt`` through
  Secrets Manager only, on the customer keys they are encrypted with (AWS's own key needs none).
- ``FunctionSecrets``: a Lambda function's secret references. The function's configuration gets only
  where each secret lives (``TSCLOUD_SECRETS``, JSON ``{VAR: ARN}``), a marker of the versions it was
  configured with (``TSCLOUD_SECRETS_VERSION``), and ``NODE_OPTIONS=--import ./_tscloud/secrets.mjs``;
  the zip gets ``_tscloud/secrets.mjs`` (``tscloud_py/data/lambda/secrets.mjs``), which reads the values
  with the function role's credentials before the handler is loaded and sets ``process.env``. A value is
  never part of what GetFunctionConfiguration shows. The marker is the wanted state, so a new version of
  a secret is a configuration update of the function (new execution environments read it), and after
  ``refresh`` (``tscloud secret set --roll``) the plan is ``none``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tscloud_py.aws.lambda_ import Lambda
from tscloud_py.aws.secrets import Secrets
from tscloud_py.aws.ssm import Ssm
from tscloud_py.aws.waiters import ProgressCallback
from tscloud_py.build.zipper import ZipEntry
from tscloud_py.config.tables.common import SECRETS_MANAGER, SSM_PARAMETER, stage_secret
from tscloud_py.errors import ConfigError
from tscloud_py.presets.naming import Names, short_hash

SECRETS_ENV = "TSCLOUD_SECRETS"
VERSION_ENV = "TSCLOUD_SECRETS_VERSION"
RESOLVER_PATH = "_tscloud/secrets.mjs"
RESOLVER_IMPORT = f"--import ./{RESOLVER_PATH}"

Resolved = dict[str, dict[str, str]]


@dataclass(frozen=True)
class SecretReader:
    """A step that reads secrets: where its references are in the config, and the references."""

    key: str  # "api.secrets", "ssr.environment", "ssr.workers[0].environment"
    refs: dict[str, str]  # VAR -> the reference as written


def resolve_refs(refs: Mapping[str, str], *, key: str, shown: str, secrets: Secrets, names: Names,
                 account: Callable[[], str]) -> Resolved:
    """Each reference resolved to the ARN that reads it (see the module's docstring); ``kms_key`` is the
    customer key a secret is encrypted with."""
    out: Resolved = {}
    for var, ref in sorted(refs.items()):
        own = stage_secret(ref)
        if own is not None:
            name = names.secret(own)
            found = secrets.describe(name, cached=True)
            if found is None:
                raise ConfigError(shown, f"{key}.{var}", f"no secret {own} in stage {names.stage} ({name} in "
                                  f"{names.region})", f"set it first: `tscloud secret set {own}` (with --stage "
                                  f"{names.stage}), the value on stdin")
            out[var] = _described(found, names, account)
            continue
        if ref.startswith(SSM_PARAMETER) or ref.startswith("arn:aws:ssm:"):
            given = ref.removeprefix(SSM_PARAMETER)
            arn = given if given.startswith("arn:") else names.arn(account(), "ssm",
                                                                   "parameter/" + given.lstrip("/"))
            out[var] = {"value_from": arn, "resource": arn, "kind": "ssm"}
            continue
        given = ref.removeprefix(SECRETS_MANAGER)
        if given.startswith("arn:aws:secretsmanager:"):
            out[var] = {"value_from": given, "resource": ":".join(given.split(":")[:7]), "kind": "secretsmanager"}
            continue
        found = secrets.describe(given, cached=True)
        if found is None:
            raise ConfigError(shown, f"{key}.{var}", f"no Secrets Manager secret named {given!r} in {names.region}",
                              "create it first (aws secretsmanager create-secret), or give its ARN")
        out[var] = _described(found, names, account)
    return out


def _described(found: dict[str, Any], names: Names, account: Callable[[], str]) -> dict[str, str]:
    ref = {"value_from": str(found["ARN"]), "resource": str(found["ARN"]), "kind": "secretsmanager"}
    key = str(found.get("KmsKeyId") or "")
    if key and not key.startswith("alias/aws/"):
        ref["kms_key"] = key if key.startswith("arn:") else names.arn(account(), "kms", f"key/{key}")
    return ref


def parameter_name(arn: str) -> str:
    """An SSM parameter's name from its ARN (a hierarchical name's ARN drops its leading slash)."""
    return "/" + arn.split(":parameter/", 1)[1].lstrip("/")


def check_refs_exist(reader: SecretReader, resolved: Resolved, *, shown: str, secrets: Secrets, ssm: Ssm,
                     region: str) -> None:
    """What ``resolve_refs`` took on trust exists: an SSM parameter, a secret given by ARN."""
    for var, ref in resolved.items():
        if ref["kind"] == "ssm":
            name = parameter_name(ref["resource"])
            if ssm.parameter(name) is None:
                raise ConfigError(shown, f"{reader.key}.{var}", f"no SSM parameter {name} in {region}",
                                  "create it first (aws ssm put-parameter --type SecureString)")
        elif reader.refs[var].removeprefix(SECRETS_MANAGER).startswith("arn:") and \
                secrets.describe(ref["resource"], cached=True) is None:
            raise ConfigError(shown, f"{reader.key}.{var}", f"no Secrets Manager secret {ref['resource']}",
                              "create it first, or fix the ARN")


def read_statements(resolved: Resolved, region: str, *, also: Iterable[str] = ()) -> list[dict[str, Any]]:
    """IAM statements that may read exactly the ``resolved`` secrets (and the secrets ``also`` names)."""
    secret_arns = sorted({r["resource"] for r in resolved.values() if r["kind"] == "secretsmanager"} | set(also))
    ssm_arns = sorted({r["resource"] for r in resolved.values() if r["kind"] == "ssm"})
    kms_keys = sorted({r["kms_key"] for r in resolved.values() if "kms_key" in r})
    statements: list[dict[str, Any]] = []
    if secret_arns:
        statements.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": secret_arns})
    if kms_keys:
        statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": ["kms:Decrypt"],
                           "Resource": kms_keys, "Condition": {"StringEquals": {
                               "kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}})
    if ssm_arns:
        statements.append({"Sid": "ReadParameters", "Effect": "Allow", "Action": ["ssm:GetParameters"],
                           "Resource": ssm_arns})
    return statements


def versions_marker(resolved: Resolved, secrets: Secrets, ssm: Ssm) -> str:
    """A short digest of the version of each secret a function would read now: it changes when any of
    them gets a new value (never a value itself, only version ids)."""
    seen = []
    for var, ref in sorted(resolved.items()):
        if ref["kind"] == "ssm":
            found = ssm.parameter(parameter_name(ref["resource"]))
            seen.append((var, ref["value_from"], (found or {}).get("Version")))
            continue
        parts = ref["value_from"].split(":")
        stage, version_id = [*parts, "", "", ""][8:10]
        if version_id:
            seen.append((var, ref["value_from"], version_id))
            continue
        desc = secrets.describe(ref["resource"], cached=True) or {}
        wanted = stage or "AWSCURRENT"
        current = sorted(v for v, stages in (desc.get("VersionIdsToStages") or {}).items() if wanted in stages)
        seen.append((var, ref["value_from"], current[0] if current else None))
    return short_hash(json.dumps(seen), length=16)


def resolver_entry() -> ZipEntry:
    """The resolver, as the function's zip holds it."""
    code = resources.files("tscloud_py").joinpath("data").joinpath("lambda").joinpath("secrets.mjs").read_bytes()
    return ZipEntry(RESOLVER_PATH, code)


@dataclass(frozen=True)
class FunctionSecrets:
    """A Lambda function's secret references and the clients that resolve them (see the module's
    docstring). A preset gives one to the function's step and its role's step, and adds
    ``resolver_entry()`` to the function's zip."""

    reader: SecretReader
    shown: str  # the config file, for errors
    names: Names
    secrets: Secrets
    ssm: Ssm
    account: Callable[[], str]

    def resolved(self) -> Resolved:
        return resolve_refs(self.reader.refs, key=self.reader.key, shown=self.shown, secrets=self.secrets,
                            names=self.names, account=self.account)

    def environment(self, plain: Mapping[str, str]) -> dict[str, str]:
        """The function's whole environment: ``plain`` without the references, plus where they live."""
        resolved = self.resolved()
        env = {k: v for k, v in plain.items() if k not in self.reader.refs}
        env[SECRETS_ENV] = json.dumps({v: r["value_from"] for v, r in resolved.items()}, separators=(",", ":"))
        env[VERSION_ENV] = versions_marker(resolved, self.secrets, self.ssm)
        env["NODE_OPTIONS"] = f"{RESOLVER_IMPORT} {plain.get('NODE_OPTIONS', '')}".strip()
        return env

    def statements(self) -> list[dict[str, Any]]:
        return read_statements(self.resolved(), self.names.region)

    def refresh(self, lam: Lambda, function_name: str, *, progress: ProgressCallback | None = None
                ) -> str | None:
        """Point the deployed function at the secrets' current versions (a configuration update: the
        execution environments started after it read the new values), waited for. Returns ``updated`` or
        ``unchanged``; None when the function is not deployed."""
        found = lam.get_function(function_name)
        if found is None:
            return None
        have = dict((found["Configuration"].get("Environment") or {}).get("Variables") or {})
        marker = versions_marker(self.resolved(), self.secrets, self.ssm)
        if have.get(VERSION_ENV) == marker:
            return "unchanged"
        lam.wait_ready(function_name, progress=progress)  # an update in progress refuses another
        lam.update_function_configuration(function_name, environment={**have, VERSION_ENV: marker})
        lam.wait_ready(function_name, progress=progress)
        return "updated"
