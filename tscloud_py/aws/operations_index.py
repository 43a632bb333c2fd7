"""Which AWS API operations each typed client can send, read from the clients' own source.

The policy ``tscloud iam policy`` prints is derived from this, not from a hand-kept list: a client method
that starts calling a new operation changes the policy with it. An operation is found three ways in a class
of ``tscloud_py/aws`` (or in a module-level function of its module, which every class there shares):

- ``call(client.method, "service:Operation", ...)``: the label names it (``tests/unit/test_iam_catalogue.py``
  holds each label to the boto3 method it wraps);
- ``paginate(client, "list_things", ...)`` and ``generate_presigned_url("put_object", ...)``: the boto3
  method's name, resolved against the services the class builds clients for (``factory.client("s3")``);
- a boto3 method called directly (``self._client.head_bucket(...)``), resolved the same way.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

AWS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, order=True)
class Operation:
    service: str  # botocore's service name: "s3", "elbv2", "apigatewayv2"
    name: str  # the API operation: "PutObject"

    def __str__(self) -> str:
        return f"{self.service}:{self.name}"


@functools.cache
def boto_methods(service: str) -> dict[str, str]:
    """boto3's method names of ``service`` -> the API operation each sends."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


@dataclass(frozen=True)
class Label:
    """One ``call(fn, "service:Operation")`` in the source: where it is and which boto3 method it wraps."""

    module: str
    line: int
    label: str
    method: str  # the attribute ``fn`` names ("put_object"), "" when fn is not an attribute


def _client_services(node: ast.AST) -> set[str]:
    """The services a piece of source builds clients for: the literal first argument of ``*.client(...)``."""
    found = set()
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "client"
                and sub.args and isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str)):
            found.add(sub.args[0].value)
    return found


def _is_name(node: ast.AST, name: str) -> bool:
    return (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name)


def _scan(node: ast.AST, services: set[str], module: str) -> tuple[set[Operation], list[Label], set[str]]:
    """The operations ``node`` sends itself, its ``call`` labels, and the names it calls (``self.m()``, ``f()``)."""
    ops: set[Operation] = set()
    labels: list[Label] = []
    calls: set[str] = set()
    labelled: set[int] = set()  # ids of the attribute nodes a call() label already accounts for
    methods = {svc: boto_methods(svc) for svc in services}

    def by_method(method: str) -> None:
        for svc, table in methods.items():
            if method in table:
                ops.add(Operation(svc, table[method]))

    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call):
            continue
        if isinstance(sub.func, ast.Name):
            calls.add(sub.func.id)
        elif isinstance(sub.func, ast.Attribute) and _is_name(sub.func.value, "self"):
            calls.add(sub.func.attr)
        if (_is_name(sub.func, "call") and len(sub.args) >= 2 and isinstance(sub.args[1], ast.Constant)
                and isinstance(sub.args[1].value, str) and ":" in sub.args[1].value):
            label = sub.args[1].value
            fn = sub.args[0]
            labels.append(Label(module, sub.lineno, label, fn.attr if isinstance(fn, ast.Attribute) else ""))
            svc, _, op = label.partition(":")
            ops.add(Operation(svc, op))
            labelled.add(id(fn))
        elif _is_name(sub.func, "paginate") and len(sub.args) >= 2 and isinstance(sub.args[1], ast.Constant):
            by_method(str(sub.args[1].value))
        elif _is_name(sub.func, "generate_presigned_url") and sub.args and isinstance(sub.args[0], ast.Constant):
            by_method(str(sub.args[0].value))
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and id(sub.func) not in labelled
                and not _is_name(sub.func.value, "self")):
            by_method(sub.func.attr)
    # a property or a method named as an argument (``each(names, self.fetch)``) is called too
    calls |= {sub.attr for sub in ast.walk(node) if isinstance(sub, ast.Attribute) and _is_name(sub.value, "self")}
    return ops, labels, calls


@dataclass(frozen=True)
class _Unit:
    ops: frozenset[Operation]
    calls: frozenset[str]


@dataclass(frozen=True)
class _ModuleIndex:
    classes: dict[str, dict[str, _Unit]]  # class -> method -> what it sends and calls
    functions: dict[str, _Unit]  # module-level functions
    labels: tuple[Label, ...]


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@functools.cache
def _module_index(module: str) -> _ModuleIndex:
    mod = importlib.import_module(module)
    tree = ast.parse(inspect.getsource(mod))
    services = _client_services(tree)
    labels: list[Label] = []
    classes: dict[str, dict[str, _Unit]] = {}
    functions: dict[str, _Unit] = {}

    def unit(node: ast.AST) -> _Unit:
        ops, found, calls = _scan(node, services, module)
        labels.extend(found)
        return _Unit(frozenset(ops), frozenset(calls))

    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {item.name: unit(item) for item in node.body if isinstance(item, _FUNCTIONS)}
        elif isinstance(node, _FUNCTIONS):
            functions[node.name] = unit(node)
    return _ModuleIndex(classes, functions, tuple(labels))


def operations_of(cls: type, methods: set[str] | None = None) -> frozenset[Operation]:
    """Every operation ``cls`` (a class of ``tscloud_py.aws``) can send from ``methods`` (default: any of its
    methods), following its calls to its own methods and to its module's functions."""
    index = _module_index(cls.__module__)
    own = index.classes.get(cls.__name__, {})
    todo = list(own if methods is None else methods & set(own))
    seen: set[str] = set()
    ops: set[Operation] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = own.get(name) or index.functions.get(name)
        if found is not None:
            ops |= found.ops
            todo += found.calls
    return frozenset(ops)


def public_methods(cls: type) -> set[str]:
    """The methods a caller of ``cls`` may call (its non-underscore ones)."""
    return {m for m in _module_index(cls.__module__).classes.get(cls.__name__, {}) if not m.startswith("_")}


def aws_modules() -> list[str]:
    """Every module of ``tscloud_py.aws``."""
    return sorted("tscloud_py.aws." + ".".join(p.relative_to(AWS_DIR).with_suffix("").parts)
                  for p in AWS_DIR.rglob("*.py") if p.name != "__init__.py")


def every_label() -> list[Label]:
    return [label for module in aws_modules() for label in _module_index(module).labels]


def every_operation() -> set[Operation]:
    """Every operation any client of ``tscloud_py.aws`` can send."""
    found: set[Operation] = set()
    for module in aws_modules():
        index = _module_index(module)
        found |= {op for methods in index.classes.values() for u in methods.values() for op in u.ops}
        found |= {op for u in index.functions.values() for op in u.ops}
    return found
