"""The one reading of the config dataclasses: each public field's type (``X | None`` unwrapped), its
metadata, whether it is required, and whether it is a table, an array of tables or a value.

The loader (``load.py``) validates against it, and the generated documents (``docs.py``: `tscloud init`'s
commented file, the JSON Schema) describe it, so the two never disagree about a field.
"""

from __future__ import annotations

import builtins
import dataclasses
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, Literal, Union, get_args, get_origin


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
    """One public field of a config dataclass. Its type is resolved when first asked for, so a table's
    dataclass is loaded only by a config or a command that uses it (``config/schema.py``)."""

    name: str
    field: dataclasses.Field[Any]
    owner: builtins.type  # the dataclass the field is declared in

    @cached_property
    def _resolved(self) -> tuple[Any, bool]:
        return strip_optional(_hint(self.owner, self.field))

    @property
    def type(self) -> Any:
        """The field's type, with ``| None`` removed."""
        return self._resolved[0]

    @property
    def optional(self) -> bool:
        return self._resolved[1]

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
    def table(self) -> builtins.type | None:
        """The dataclass of a ``[table]`` field."""
        return self.type if is_dataclass_type(self.type) else None

    @property
    def item(self) -> Any | None:
        """The item type of an array field."""
        return get_args(self.type)[0] if get_origin(self.type) is list else None

    @property
    def array_of(self) -> builtins.type | None:
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
    return tuple(Setting(f.name, f, cls) for f in dataclasses.fields(cls) if not f.metadata.get("internal"))


class _ModuleNames(Mapping[str, Any]):
    """A module's names for evaluating an annotation, those it loads on first use (PEP 562) included."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self._module, name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(vars(self._module))

    def __len__(self) -> int:
        return len(vars(self._module))


def _hint(owner: type, f: dataclasses.Field[Any]) -> Any:
    """``f``'s annotation as a type: the string ``from __future__ import annotations`` left, evaluated where
    ``owner`` is declared, as ``typing.get_type_hints`` would."""
    if not isinstance(f.type, str):
        return f.type
    module = sys.modules[owner.__module__]
    return eval(f.type, vars(module), _ModuleNames(module))  # our own annotations, never input


def setting(cls: type, name: str) -> Setting:
    return next(s for s in settings(cls) if s.name == name)


def table_names(cls: type) -> set[str]:
    """The fields of ``cls`` that are tables or arrays of tables."""
    return {s.name for s in settings(cls) if s.table is not None or s.array_of is not None}
