"""tscloud.toml -> typed config.

The schema is the dataclasses in ``schema``, read through ``fields``: each field's
type, default and ``metadata`` (help text, pattern, choices, bounds) drive
validation, the did-you-mean for unknown keys, ``tscloud init`` and ``tscloud
config schema``; the cross-field rules are ``checks``.
Every error names the file, the key and what was expected, and exits 2.
"""

from __future__ import annotations

import math
import re
import sys
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from tscloud_py.config.checks import check_config
from tscloud_py.config.fields import Setting, settings, table_names
from tscloud_py.config.preset_registry import PRESETS
from tscloud_py.config.schema import Config
from tscloud_py.errors import ConfigError, UsageError, closest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# a config is a page of settings; anything this large is not one (and /dev/zero never ends)
MAX_CONFIG_BYTES = 1024 * 1024


def read_config_text(path: Path) -> str:
    """The file's text, refusing what is not a regular file of sane size (``files.read_regular``). A
    UTF-8 byte order mark, which some editors write, is not part of the text."""
    from tscloud_py.files import Unreadable, read_regular

    shown = str(path)
    try:
        data = read_regular(path, MAX_CONFIG_BYTES)
    except Unreadable as exc:
        if exc.missing:
            raise ConfigError(shown, "", "file not found",
                              "create one with `tscloud init`, or pass --config PATH") from None
        raise ConfigError(shown, "", f"{exc}; not a tscloud config",
                          "pass --config the path of a tscloud.toml") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError(shown, "", "not UTF-8 text") from None


def load_config(path: Path, *, stage: str | None = None, region: str | None = None) -> Config:
    """Read, validate and type ``path``. Flags (stage, region) override the file."""
    shown = str(path)
    text = read_config_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, "", f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(shown, "", "invalid TOML: arrays or tables nested too deep") from None
    return config_from_dict(raw, shown, base_dir=path.resolve().parent, stage=stage, region=region)


def config_from_dict(raw: dict[str, Any], shown: str, *, base_dir: Path,
                     stage: str | None = None, region: str | None = None) -> Config:
    if stage is not None:
        raw = {**raw, "stage": stage}
    if region is not None:
        raw = {**raw, "region": region}
    try:
        config = build(Config, raw, shown, "")
        _check_region(config.region, shown)
    except ConfigError as exc:
        # A bad --stage/--region came from the command line, not the file: name the flag.
        if exc.key in ("stage", "region") and {"stage": stage, "region": region}[exc.key] is not None:
            raise UsageError(f"--{exc.key}: {exc.expected}") from None
        raise
    config.path = shown
    config.base_dir = base_dir
    _check_preset_tables(config, raw, shown)
    check_config(config, shown)
    return config


def _check_region(region: str, shown: str) -> None:
    from tscloud_py.aws.regions import region_problem

    problem = region_problem(region)
    if problem is not None:
        raise ConfigError(shown, "region", problem)


def _check_preset_tables(config: Config, raw: dict[str, Any], shown: str) -> None:
    wanted = PRESETS[config.preset].tables
    for table in wanted.required:
        if raw.get(table) is None:
            raise ConfigError(shown, f"[{table}]", f"required by preset '{config.preset}'; add a [{table}] table")
    allowed = set(wanted.required) | set(wanted.optional) | {"dns", "state"}
    for key, value in raw.items():
        if isinstance(value, (dict, list)) and key not in allowed and key in table_names(Config):
            raise ConfigError(shown, f"[{key}]", f"not used by preset '{config.preset}'; remove it or change preset")


def build(cls: type, raw: Any, shown: str, prefix: str) -> Any:
    """Validate ``raw`` (a TOML table) into an instance of the dataclass ``cls``."""
    where = prefix or "(top level)"
    if not isinstance(raw, dict):
        raise ConfigError(shown, where, f"expected a table, got {_tname(raw)}")
    fields = {s.name: s for s in settings(cls)}
    for key in raw:
        if key not in fields:
            close = closest(key, fields)
            hint = f"did you mean '{close}'?" if close else f"known keys: {', '.join(sorted(fields))}"
            raise ConfigError(shown, _join(prefix, key), f"unknown key; {hint}")
    values: dict[str, Any] = {}
    for name, s in fields.items():
        key = _join(prefix, name)
        if name in raw:
            values[name] = _coerce(s, raw[name], shown, key)
        elif s.required:
            raise ConfigError(shown, key, f"required; {s.meta.get('help', 'missing')}")
    return cls(**values)


def _coerce(s: Setting, value: Any, shown: str, key: str) -> Any:
    meta, tp = s.meta, s.type
    if s.optional and value is None:
        return None
    origin = get_origin(tp)
    if s.table is not None:
        return build(s.table, value, shown, key)
    if origin is Literal:
        choices = s.choices
        if value not in choices:
            close = closest(str(value), choices)
            extra = f" (did you mean '{close}'?)" if close else ""
            raise ConfigError(shown, key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}{extra}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(shown, key, f"expected an array, got {_tname(value)}")
        if s.array_of is not None:
            return [build(s.array_of, v, shown, f"{key}[{i}]") for i, v in enumerate(value)]
        out = [_scalar(s.item, v, meta, shown, f"{key}[{i}]") for i, v in enumerate(value)]
        if "max_items" in meta and len(out) > meta["max_items"]:
            raise ConfigError(shown, key, f"at most {meta['max_items']} entries, got {len(out)}")
        return out
    if origin is dict:
        _, vt = get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(shown, key, f"expected a table of {vt.__name__} values, got {_tname(value)}")
        out_d: dict[str, Any] = {}
        key_re = meta.get("key_pattern")
        for k, v in value.items():
            if key_re and not re.fullmatch(key_re, k):
                raise ConfigError(shown, f"{key}.{k}", f"invalid name; expected to match {key_re}")
            out_d[k] = _scalar(vt, v, {}, shown, f"{key}.{k}")
        return out_d
    return _scalar(tp, value, meta, shown, key)


def _scalar(tp: Any, value: Any, meta: typing.Mapping[str, Any], shown: str, key: str) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(shown, key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(shown, key, f"expected an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(shown, key, f"expected a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(shown, key, f"expected a finite number, got {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(shown, key, f"expected a string, got {_tname(value)} {value!r}")
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise ConfigError(shown, key, f"{meta.get('pattern_help', 'invalid value')}, got {value!r}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(shown, key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
    if tp in (int, float):
        lo, hi = meta.get("min"), meta.get("max")
        if lo is not None and value < lo:
            raise ConfigError(shown, key, f"expected at least {lo}, got {value}")
        if hi is not None and value > hi:
            raise ConfigError(shown, key, f"expected at most {hi}, got {value}")
        allowed = meta.get("choices")
        if allowed and value not in allowed:
            raise ConfigError(shown, key, f"expected one of {', '.join(map(str, allowed))}, got {value}")
    return value


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _tname(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", int: "an integer", float: "a number",
            bool: "a boolean"}.get(type(value), type(value).__name__)


