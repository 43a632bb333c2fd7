"""The one reading of the config dataclasses: each public field's type (``X | None`` unwrapped), its
metadata, whether it is required, and whether it is a table, an array of tables or a value.

The loader (``load.py``) validates against it, and the generated documents (``docs.py``: `tscloud init`'s
commented file, the JSON Schema) describe it, so the two never disagree about a field.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints


def strip_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (it, False)."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0], True
    return tp, False


def is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


@dataclass(frozen=True)
class Setting:
    """One public field of a config dataclass."""

    name: str
    field: dataclasses.Field[Any]
    type: Any  # with ``| None`` removed
    optional: bool

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.field.metadata

    @property
    def help(self) -> str:
        return str(self.meta.get("help", ""))

    @property
    def required(self) -> bool:
        return self.field.default is dataclasses.MISSING and self.field.default_factory is dataclasses.MISSING

    @property
    def table(self) -> type | None:
        """The dataclass of a ``[table]`` field."""
        return self.type if is_dataclass_type(self.type) else None

    @property
    def item(self) -> Any | None:
        """The item type of an array field."""
        return get_args(self.type)[0] if get_origin(self.type) is list else None

    @property
    def array_of(self) -> type | None:
        """The dataclass of a ``[[table]]`` (array of tables) field."""
        item = self.item
        return item if is_dataclass_type(item) else None

    @property
    def choices(self) -> tuple[Any, ...]:
        """A Literal type's values, else the ``choices`` metadata."""
        if get_origin(self.type) is Literal:
            return get_args(self.type)
        return tuple(self.meta.get("choices") or ())


@cache
def settings(cls: type) -> tuple[Setting, ...]:
    """The public fields of ``cls`` (those without ``internal`` metadata), in declaration order."""
    hints = get_type_hints(cls, include_extras=False)
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        tp, optional = strip_optional(hints[f.name])
        out.append(Setting(f.name, f, tp, optional))
    return tuple(out)


def setting(cls: type, name: str) -> Setting:
    return next(s for s in settings(cls) if s.name == name)


def table_names(cls: type) -> set[str]:
    """The fields of ``cls`` that are tables or arrays of tables."""
    return {s.name for s in settings(cls) if s.table is not None or s.array_of is not None}
