"""SSM Parameter Store's GetParameters by ARN."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _get_parameters_by_arn()


def _get_parameters_by_arn() -> None:
    """GetParameters takes "the names or Amazon Resource Names (ARNs) of the parameters" (AWS's API
    reference), answering each under the name it was asked by; a function's secret resolver asks by the
    ARN its role is granted.

    moto looks only names up, so an ARN lands in InvalidParameters though the parameter exists.
    """
    from moto.ssm.models import SimpleSystemManagerBackend

    original = SimpleSystemManagerBackend.get_parameters

    def get_parameters(self: Any, names: list[str]) -> dict[str, Any]:
        by_arn = {}
        for asked in names:
            if asked.startswith("arn:") and ":parameter/" in asked:
                rest = asked.split(":parameter/", 1)[1]
                # a hierarchical name's ARN drops its leading slash
                by_arn[asked] = f"/{rest}" if f"/{rest}" in self._parameters else rest
        found = original(self, [by_arn.get(n, n) for n in names])
        for asked, name in by_arn.items():
            if name in found:
                found[asked] = found.pop(name)
        return dict(found)

    SimpleSystemManagerBackend.get_parameters = get_parameters  # type: ignore[method-assign]
