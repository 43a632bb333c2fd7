"""References to other steps' outputs: what a step holds instead of a step id and a key spelled as strings.

A step exposes its outputs as ``bucket.output("bucket_domain")``, a ``Ref`` the consuming step keeps
and resolves at run time with ``ctx.get(ref)``, through the same needs check as every other read. Because
the references are data held by the step, the graph can be read without running anything:
``referenced_steps(step)`` is the set of steps whose outputs it reads, which its ``needs`` must list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Ref(Generic[T_co]):
    """Output ``key`` of step ``step_id``; ``T_co`` is the type of the value the step outputs there."""

    step_id: str
    key: str

    def __str__(self) -> str:
        return f"{self.step_id}.{self.key}"


class UnknownOutputError(ValueError):
    """A reference to an output the step does not declare: a misspelt key, caught while the graph is built."""


def output_ref(step_id: str, provides: frozenset[str], key: str) -> Ref[Any]:
    """``step_id``'s output ``key``, when ``provides`` lists it."""
    if key not in provides:
        listed = ", ".join(sorted(provides)) or "nothing"
        raise UnknownOutputError(f"step '{step_id}' has no output '{key}'; it provides {listed}")
    return Ref(step_id, key)


def refs_in(value: Any) -> set[Ref[Any]]:
    """Every Ref inside ``value``: itself, the items of lists, tuples, sets and mappings, the fields of
    dataclasses. Other objects (clients, configs) are not entered: a step's references are its own data."""
    found: set[Ref[Any]] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Ref):
            found.add(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
    return found


def referenced_steps(step: Any) -> set[str]:
    """The ids of the other steps whose outputs ``step`` holds references to."""
    own = getattr(step, "id", None)
    return {ref.step_id for ref in refs_in(list(vars(step).values())) if ref.step_id != own}
