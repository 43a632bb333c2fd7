"""The least-privilege IAM policy a config's deploy needs, derived from the code (``tscloud iam policy``).

Three facts, none kept by hand (docs/iam.md says why this shape):

1. which typed clients the preset's steps hold, and which of their methods the steps' code calls: the
   preset builds its steps for this config (no request is sent) and each step is walked for the
   ``tscloud_py.aws`` clients it holds, directly or through what it holds (a DNS provider's Route 53
   client); a client method counts as used when a module of the step's classes (or of what holds the
   client, or of the preset) calls a method of that name;
2. which API operations those methods send (``aws/operations_index.py``, read from the clients' source);
3. what IAM must allow for each operation (``aws/actions.py``, from AWS's Service Authorization Reference).

The state backend's lock and journal requests (``aws/state_bucket.py``) are always in, scoped to this
stage's two keys in the state bucket.

``--for preview`` is the same walk over what `tscloud preview` runs instead of the config's stage: the preview
host's steps and a preview stage's (built for a placeholder name: every stage's steps are alike), and what
`preview list` and `preview prune` call; its names are the host's stage and every preview stage's
(``{app}-preview-*``), never the config's own stage.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from tscloud_py.aws.actions import (
    ANY,
    CATALOGUE,
    LISTS,
    NO_RESOURCE_LEVEL,
    RESOURCE_KINDS,
    Grant,
    writes,
)
from tscloud_py.aws.operations_index import Operation, operations_of, public_methods
from tscloud_py.aws.session import is_mutating

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.schema import Config

PURPOSES = ("deploy", "destroy", "plan", "all", "secrets", "preview")
# A destroy reads, deletes (these verbs), keeps the journal, and before deleting lifts what AWS would refuse:
# a distribution is disabled (an update) first. Route 53 deletes a record through a change batch.
TEARDOWN_VERBS = ("Delete", "Remove", "Deregister", "Detach", "Disassociate", "Release", "Revoke", "Abort")
TEARDOWN_UPDATES = frozenset({"cloudfront:UpdateDistribution", "route53:ChangeResourceRecordSets"})
# `tscloud secret`: its module and the helper it runs (references resolved, functions pointed at new
# versions), each preset's ``refresh_secret_readers`` (what `--roll` runs) with the clients they use, and
# what the service restart they call calls on the clients it is given.
SECRET_COMMAND_MODULES = ("tscloud_py.operations.secrets", "tscloud_py.presets.steps.secrets")
SECRET_COMMAND_CALLERS = ("tscloud_py.presets.fullstack_app.operate",)
# `tscloud preview list` and `prune` (which destroys what list finds stale, as `preview destroy` does): the
# modules of their code.
PREVIEW_COMMAND_MODULES = ("tscloud_py.operations.preview", "tscloud_py.cli.commands.preview")
# The preview stage whose steps stand for every one's (a valid NAME: `preview deploy` checks it).
PREVIEW_PLACEHOLDER = "name"
# The Sid of a statement on "*" says which of AWS's rules makes it so.
# the suffix of a "*" statement's Sid when it carries a condition
CONDITIONED = "Conditioned"
ANY_SIDS = {NO_RESOURCE_LEVEL: "AwsTakesNoResourceForThese", LISTS: "ListsAndDescribesWithoutAnId"}
_STATE_CLIENT = ("tscloud_py.aws.state_bucket", "S3StateStore")


@dataclass(frozen=True)
class Use:
    """One typed client class and the methods of it that tscloud's code calls."""

    cls: type
    methods: frozenset[str]
    state: bool = False  # sent to the state bucket


@functools.cache
def _called_names(module: str) -> frozenset[str]:
    """Every ``x.name(...)`` and ``name(...)`` called in ``module``, and every attribute passed along."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    return frozenset(node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute))


def _own_modules(obj: object) -> set[str]:
    return {c.__module__ for c in type(obj).__mro__ if c.__module__.startswith("tscloud_py.")}


def _held(obj: object, path: tuple[object, ...], depth: int = 0) -> Iterator[tuple[object, tuple[object, ...]]]:
    """The ``tscloud_py.aws`` clients ``obj`` holds, each with the objects it was reached through (itself last)."""
    if type(obj).__module__.startswith("tscloud_py.aws."):
        yield obj, path
        return
    if depth > 4 or not type(obj).__module__.startswith("tscloud_py."):
        return
    for value in vars(obj).values() if hasattr(obj, "__dict__") else ():
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else (value,)
        for item in items:
            if hasattr(item, "__dict__") and not inspect.isroutine(item) and not inspect.isclass(item):
                yield from _held(item, (*path, item), depth + 1)


def uses_of(objects: Iterable[object], extra_modules: Iterable[str] = ()) -> list[Use]:
    """What ``objects`` (steps) call on the clients they hold."""
    found: dict[type, set[str]] = {}
    extra = set(extra_modules)
    for obj in objects:
        for client, path in _held(obj, (obj,)):
            modules = extra | {m for holder in path[:-1] for m in _own_modules(holder)}
            called = set().union(*(_called_names(m) for m in modules))
            found.setdefault(type(client), set()).update(public_methods(type(client)) & called)
    return [Use(cls, frozenset(methods)) for cls, methods in found.items()]


def _aws_classes(tree: ast.AST, namespace: dict[str, Any]) -> set[type]:
    """The ``tscloud_py.aws`` client classes ``tree`` imports, or names from ``namespace`` (its module's)."""
    found: set[Any] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tscloud_py.aws."):
            mod = importlib.import_module(str(node.module))
            found.update(getattr(mod, alias.name, None) for alias in node.names)
        elif isinstance(node, ast.Name) and inspect.isclass(namespace.get(node.id)):
            found.add(namespace[node.id])
    return {c for c in found if inspect.isclass(c) and c.__module__.startswith("tscloud_py.aws.")
            and public_methods(c)}


def _roll_functions() -> list[Any]:
    """Each preset's own ``refresh_secret_readers`` (the base class's refreshes nothing)."""
    from tscloud_py.config.preset_registry import PRESETS
    from tscloud_py.presets import Preset

    out = []
    for info in PRESETS.values():
        module, _, name = info.loader.partition(":")
        func = getattr(importlib.import_module(module), name).refresh_secret_readers
        if func is not Preset.refresh_secret_readers and func not in out:
            out.append(func)
    return out


def _source_uses(trees: list[tuple[ast.AST, dict[str, Any]]], callers: Iterable[str] = ()) -> list[Use]:
    """The clients ``trees`` (source, with its module's names) use, and the methods called on them there or
    in the modules ``callers``."""
    called = {node.attr for tree, _ in trees for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    called |= set().union(*map(_called_names, callers))
    classes = set().union(*(_aws_classes(tree, namespace) for tree, namespace in trees))
    return [Use(cls, frozenset(public_methods(cls) & called)) for cls in sorted(classes, key=str)]


def _module_trees(modules: Iterable[str]) -> list[tuple[ast.AST, dict[str, Any]]]:
    return [(ast.parse(inspect.getsource(mod)), vars(mod)) for mod in map(importlib.import_module, modules)]


def secret_command_uses() -> list[Use]:
    """What `tscloud secret` calls: the clients its modules and the presets' refreshes use, and the methods
    called on them there."""
    trees = _module_trees(SECRET_COMMAND_MODULES)
    trees += [(ast.parse(textwrap.dedent(inspect.getsource(f))), f.__globals__) for f in _roll_functions()]
    return _source_uses(trees, SECRET_COMMAND_CALLERS)


def preview_command_uses() -> list[Use]:
    """What `tscloud preview list` and `prune` call beyond a stage's destroy: the clients their modules use."""
    return _source_uses(_module_trees(PREVIEW_COMMAND_MODULES))


def state_uses() -> list[Use]:
    """The state store's requests: its own, and what it calls on the S3 client it makes the bucket with."""
    from tscloud_py.aws.s3 import S3

    module, name = _STATE_CLIENT
    cls = getattr(importlib.import_module(module), name)
    return [Use(cls, frozenset(public_methods(cls)), state=True),
            Use(S3, frozenset(public_methods(S3) & _called_names(module)), state=True)]


def wanted(operation: Operation, purpose: str, state: bool) -> bool:
    if purpose in ("all", "deploy", "secrets", "preview") or not is_mutating(operation.name):
        return True
    return purpose == "destroy" and (state or operation.name.startswith(TEARDOWN_VERBS)
                                     or str(operation) in TEARDOWN_UPDATES)


@dataclass(frozen=True)
class Needed:
    """One operation the policy allows, and the client class that sends it."""

    operation: Operation
    state: bool  # sent to the state bucket


def operations_for(uses: Iterable[Use], purpose: str) -> set[Needed]:
    return {Needed(op, use.state) for use in uses for op in operations_of(use.cls, set(use.methods))
            if wanted(op, purpose, use.state)}


@dataclass(frozen=True)
class Scope:
    """What fills the resource patterns: this app's names and account, and the state bucket."""

    app: str
    stage: str
    region: str
    account: str
    state_bucket: str
    # more stages whose names and state keys the patterns cover, as patterns ("preview-*": every preview stage)
    also: tuple[str, ...] = ()

    def fill(self, pattern: str) -> str:
        from tscloud_py.presets.naming import Names

        names = Names(self.app, self.stage, self.region)
        lb = names.resource("x", 32)[: -len("-x")] if len(names.prefix) + 2 <= 32 else names.resource("x", 32)[:25]
        return pattern.format(prefix=names.prefix, app=self.app, stage=self.stage, region=self.region,
                              account=self.account, state=self.state_bucket, lb=lb)

    def resources(self, patterns: Iterable[str]) -> list[str]:
        """``patterns`` filled for the stage, then for each of ``also`` where no ARN of the stage's already
        covers it (``{app}-preview-*`` covers ``{app}-preview-*-*``, not ``locks/{app}/preview-*``)."""
        patterns = list(patterns)
        own = list(dict.fromkeys(self.fill(p) for p in patterns))
        more = dict.fromkeys(replace(self, stage=s, also=()).fill(p) for s in self.also for p in patterns)
        return own + [arn for arn in more if not any(fnmatchcase(arn, mine) for mine in own)]


def _sid(words: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", words) if w)


def build_policy(needed: Iterable[Needed], scope: Scope, *, reads_only: bool = False) -> dict[str, Any]:
    """The policy document: one statement per (resource kind, condition), actions sorted, Sids that say why
    a statement names no resource. ``reads_only``: grants that carry a write (what a read's answer is used
    for, such as the pushes an ECR token is for) are left out."""
    groups: dict[tuple[str, str], tuple[set[str], dict[str, Any], str]] = {}
    for item in needed:
        key = str(item.operation)
        if key not in CATALOGUE:
            raise KeyError(f"{key} is sent by a client but has no entry in aws/actions.py")
        for grant in CATALOGUE[key]:
            if reads_only and any(writes(a) for a in grant.actions):
                continue
            kind = _state_kind(grant, item.state)
            cond = _fill_condition(grant.condition, scope)
            slot = groups.setdefault((kind, grant.why + repr(sorted(_flat(cond)))), (set(), cond, grant.why))
            slot[0].update(grant.actions)
    statements = []
    for (kind, _), (actions, cond, why) in sorted(groups.items(), key=lambda kv: (kv[0][0] == ANY, kv[0])):
        # a kind's patterns for the stage's region and for us-east-1 are one ARN when the stage is in us-east-1
        resources = ["*"] if kind == ANY else scope.resources(RESOURCE_KINDS[kind])
        # on "*" the Sid says why; a conditioned grant among them (a mapping's lambda:FunctionArn) says so too
        sid = ANY_SIDS[why] + (CONDITIONED if cond else "") if kind == ANY else \
            _sid(f"{kind} {_condition_words(cond)}")
        stmt: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
                                "Resource": resources if len(resources) > 1 else resources[0]}
        if cond:
            stmt["Condition"] = cond
        statements.append(stmt)
    _unique_sids(statements)
    return {"Version": "2012-10-17", "Statement": statements}


def _state_kind(grant: Grant, state: bool) -> str:
    if state and grant.resource in ("bucket", "object"):
        return "state-" + grant.resource
    return grant.resource


def _fill_condition(cond: dict[str, Any], scope: Scope) -> dict[str, Any]:
    return {op: {k: scope.fill(v) for k, v in kv.items()} for op, kv in cond.items()}


def _flat(cond: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(op, k, str(v)) for op, kv in cond.items() for k, v in kv.items()]


def _condition_words(cond: dict[str, Any]) -> str:
    values = [str(v).split(".amazonaws")[0] for kv in cond.values() for v in kv.values()]
    return ("for " + " ".join(values)) if values else ""


def _unique_sids(statements: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for stmt in statements:
        sid = stmt["Sid"]
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            stmt["Sid"] = f"{sid}{seen[sid]}"


def reasons(policy: dict[str, Any]) -> dict[str, str]:
    """Why each statement that names no resource does so, by Sid."""
    why = {sid: text for text, sid in ANY_SIDS.items()}
    return {s["Sid"]: why[s["Sid"].rstrip("0123456789").removesuffix(CONDITIONED)]
            for s in policy["Statement"] if s["Resource"] == "*"}


def preset_uses(config: Config, factory: ClientFactory) -> list[Use]:
    """What this config's preset calls: its steps built (no request sent) and walked."""
    from tscloud_py.presets import load_preset

    preset = load_preset(config, factory)
    return uses_of(preset.steps(), _own_modules(preset))


def preview_uses(config: Config, factory: ClientFactory) -> list[Use]:
    """What `preview setup` and `preview deploy|destroy NAME` call: the host's steps and a stage's, built for
    ``PREVIEW_PLACEHOLDER`` (no request sent) and walked. Refused (exit 2) without [preview]."""
    from tscloud_py.operations.preview import host_target, stage_target
    from tscloud_py.presets import PresetOptions

    uses = []
    for target in (host_target(config), stage_target(config, PREVIEW_PLACEHOLDER)):
        preset = target.preset(target.config, factory, PresetOptions())
        uses += uses_of(preset.steps(), _own_modules(preset))
    return uses


def preview_scope(scope: Scope) -> Scope:
    """The preview host's names and state keys (its stage) and every preview stage's, not ``scope``'s stage."""
    from tscloud_py.presets.preview.common import HOST_STAGE, stage_of

    return replace(scope, stage=HOST_STAGE, also=(stage_of("*"),))


def policy_for(config: Config, factory: ClientFactory, purpose: str, scope: Scope) -> dict[str, Any]:
    uses = state_uses()
    if purpose == "preview":
        uses += preview_uses(config, factory) + preview_command_uses()
        return build_policy(operations_for(uses, purpose), preview_scope(scope))
    if purpose != "secrets":
        uses += preset_uses(config, factory)
    if purpose in ("secrets", "all"):
        uses += secret_command_uses()
    return build_policy(operations_for(uses, purpose), scope, reads_only=purpose == "plan")
