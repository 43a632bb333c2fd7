"""Documents generated from the config dataclasses: a commented tscloud.toml (`tscloud init`) and a
JSON Schema (`tscloud config schema`). Both read the same field metadata as the loader
(``help``, ``pattern``, ``choices``, ``min``/``max``, ``max_items``, ``key_pattern``, ``example``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from tscloud_py.config.fields import Setting, setting, settings
from tscloud_py.config.preset_registry import PRESETS
from tscloud_py.config.schema import Config

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Sample values for commented-out fields whose default is unset (valid once uncommented).
SAMPLES: dict[str, Any] = {
    "site.domain": "www.example.com", "dns.zone": "example.com", "dns.zone_id": "Z0123456789ABCDEFGHIJ",
    "api.image": "public.ecr.aws/docker/library/nginx:1.27-alpine", "frontend.distribution_id": "E2QWRUHAPOMQZL",
    "database.version": "16.4", "database.deletion_protection": True, "mail.domain": "example.com",
    "mail.mail_from": "mail.example.com", "api_domain.stage": "prod", "api_domain.load_balancer": "my-alb",
    "api_domain.api_id": "a1b2c3d4e5", "ssr.streaming": True, "ssr.runtime": "nodejs22.x",
    "ssr.workers.runtime": "provided.al2023", "ssr.workers.dir": "worker", "schedules.name": "nightly",
    "schedules.expression": "cron(0 3 * * ? *)", "schedules.command": ["node", "jobs/nightly.js"],
    "api.build.target": "runtime", "api.build.platform": "linux/arm64", "queue.worker_command": ["node", "worker.js"],
    "ssr.permissions.actions": ["bedrock:InvokeModel"],
    "ssr.permissions.resources": ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"],
    "ssr.workers.permissions.actions": ["sqs:SendMessage"],
    "ssr.workers.permissions.resources": ["arn:aws:sqs:us-east-1:123456789012:other-queue"],
}
SAMPLE_DICTS: dict[str, dict[str, str]] = {
    "environment": {"LOG_LEVEL": "info"},
    "secrets": {"DATABASE_PASSWORD": "shop/prod/db-password"},
    "args": {"NODE_ENV": "production"},
}


# -- TOML ------------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _constraint(s: Setting) -> str:
    if s.choices:
        return " (one of: " + ", ".join(str(c) for c in s.choices) + ")"
    lo, hi = s.meta.get("min"), s.meta.get("max")
    if lo is not None and hi is not None:
        return f" ({lo}..{hi})"
    if lo is not None:
        return f" (at least {lo})"
    return ""


def _sample(key: str, s: Setting) -> Any:
    f = s.field
    if key in SAMPLES:
        return SAMPLES[key]
    if "example" in s.meta:
        return s.meta["example"]
    if f.default is not dataclasses.MISSING and f.default is not None:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    if s.choices and not s.meta.get("choices"):
        return s.choices[0]
    return {bool: False, int: s.meta.get("min", 0), float: s.meta.get("min", 0.0)}.get(s.type, "")


def _table_lines(cls: type, name: str, values: dict[str, Any], *, active: bool, array: bool = False,
                 path: str | None = None) -> list[str]:
    """``[name]`` (or ``[[name]]``) with one commented line of help per key.

    Active tables write the keys in ``values`` and required keys; everything else is commented out
    with its default (or a sample). Inactive tables are commented out entirely.
    """
    path = path or name
    c = "" if active else "# "
    lines = [f"{c}[[{name}]]" if array else f"{c}[{name}]"]
    subtables: list[str] = []
    for s in settings(cls):
        key = f"{path}.{s.name}"
        help_line = f"# {s.help}{_constraint(s)}"
        if s.table is not None:
            subtables += ["", help_line, *_table_lines(s.table, f"{name}.{s.name}", values, active=False,
                                                        path=key)]
            continue
        if s.array_of is not None:
            subtables += ["", help_line, *_table_lines(s.array_of, f"{name}.{s.name}", values, active=False,
                                                        array=True, path=key)]
            continue
        if get_origin(s.type) is dict:
            sample = SAMPLE_DICTS.get(s.name, {"NAME": "value"})
            subtables += ["", help_line, f"# [{name}.{s.name}]",
                          *(f"# {k} = {toml_value(v)}" for k, v in sample.items())]
            continue
        lines.append(help_line)
        if active and (key in values or s.required):
            value = values[key] if key in values else _sample(key, s)
            lines.append(f"{s.name} = {toml_value(value)}")
        else:
            lines.append(f"# {s.name} = {toml_value(_sample(key, s))}")
    return lines + subtables


def init_toml(preset: str, app: str, *, region: str = "us-east-1", stage: str = "dev",
              overrides: dict[str, Any] | None = None) -> str:
    """A commented tscloud.toml for ``preset`` that loads cleanly."""
    info = PRESETS[preset]
    values = {**info.init_values, **(overrides or {})}
    out = [
        f"# tscloud.toml: {preset}. Generated by `tscloud init`; every key is explained above it.",
        "# Check it with `tscloud plan --local` (the embedded emulator) and estimate it with `tscloud cost`.",
        "# Editors: `tscloud config schema > tscloud.schema.json` gives a JSON Schema of this file.",
        "",
    ]
    for name, value in (("app", app), ("preset", preset), ("region", region), ("stage", stage)):
        out.append(f"# {setting(Config, name).help}{_constraint(setting(Config, name))}")
        out.append(f"{name} = {toml_value(value)}")
    tables = info.tables
    active = info.init_tables
    order = [*tables.required, *(t for t in active if t not in tables.required),
             *(t for t in tables.optional if t not in active), *(("dns",) if "dns" not in active else ())]
    for table in order:
        s = setting(Config, table)
        out.append("")
        out.append(f"# {s.help}")
        if s.array_of is not None:
            out += _table_lines(s.array_of, table, values, active=False, array=True)
        elif s.table is not None:
            out += _table_lines(s.table, table, values, active=table in active)
    return "\n".join(out) + "\n"


def default_app_name(directory: Path) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")
    name = re.sub(r"^[^a-z]+", "", name)[:30].rstrip("-")
    return name if re.fullmatch(r"[a-z][a-z0-9-]{0,28}[a-z0-9]", name) else "app"


# -- JSON Schema -------------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of tscloud.toml, from the dataclasses."""
    defs: dict[str, Any] = {}
    root = _object_schema(Config, defs)
    conditions = []
    for preset, info in PRESETS.items():
        if info.tables.required:
            conditions.append({"if": {"properties": {"preset": {"const": preset}}, "required": ["preset"]},
                               "then": {"required": list(info.tables.required)}})
    return {"$schema": SCHEMA_DIALECT, "title": "tscloud.toml",
            "description": "tscloud configuration (generated from tscloud_py/config/schema.py)",
            **root, "allOf": conditions, "$defs": defs}


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for s in settings(cls):
        schema = _type_schema(s, defs)
        if s.help:
            schema = {**schema, "description": s.help}
        if s.field.default is not dataclasses.MISSING and s.field.default is not None:
            schema["default"] = s.field.default
        if s.required:
            required.append(s.name)
        props[s.name] = schema
    doc: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        doc["required"] = required
    return doc


def _ref(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    name = cls.__name__
    if name not in defs:
        defs[name] = {}  # placeholder against recursion
        defs[name] = {"title": name, **_object_schema(cls, defs)}
    return {"$ref": f"#/$defs/{name}"}


def _type_schema(s: Setting, defs: dict[str, Any]) -> dict[str, Any]:
    tp, meta = s.type, s.meta
    origin = get_origin(tp)
    if s.table is not None:
        return _ref(s.table, defs)
    if s.choices and not meta.get("choices"):
        return {"enum": list(s.choices)}
    if origin is list:
        items = _ref(s.array_of, defs) if s.array_of is not None else _scalar_schema(s.item, meta)
        doc: dict[str, Any] = {"type": "array", "items": items}
        if "max_items" in meta:
            doc["maxItems"] = meta["max_items"]
        return doc
    if origin is dict:
        _, vt = get_args(tp)
        doc = {"type": "object", "additionalProperties": _scalar_schema(vt, {})}
        if meta.get("key_pattern"):
            doc["propertyNames"] = {"pattern": f"^(?:{meta['key_pattern']})$"}
        return doc
    return _scalar_schema(tp, meta)


def _scalar_schema(tp: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any]
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        doc = {"type": "integer"}
    elif tp is float:
        doc = {"type": "number"}
    elif tp is str:
        doc = {"type": "string"}
        if meta.get("pattern"):
            doc["pattern"] = f"^(?:{meta['pattern']})$"
    else:
        return {}
    if tp in (int, float):
        if meta.get("min") is not None:
            doc["minimum"] = meta["min"]
        if meta.get("max") is not None:
            doc["maximum"] = meta["max"]
    if meta.get("choices"):
        doc["enum"] = list(meta["choices"])
    return doc
