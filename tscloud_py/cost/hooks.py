"""Small hooks the lifecycle commands call: cost inputs in the run record, the cost delta in `plan`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tscloud_py.errors import TscloudError

if TYPE_CHECKING:
    from tscloud_py.engine.runner import RunResult
    from tscloud_py.operations.workspace import Workspace


def run_extras(ws: Workspace, kind: str, result: RunResult | None) -> dict[str, Any]:
    """Extra fields of the run summary (journal ``last_run`` and run record).

    ``cost_inputs`` is what the stage runs after this run: the config's inputs after a deploy (whatever
    its ``result``: they can be gathered while its steps run), nothing after a complete destroy, the
    previous inputs after a failed destroy.
    """
    from tscloud_py.cost.inputs import cost_inputs

    try:
        if kind == "deploy":
            return {"cost_inputs": cost_inputs(ws.config)}
        if kind == "destroy" and result is not None and result.ok:
            return {"cost_inputs": None}
        previous = (ws.journal.data.get("last_run") or {}).get("cost_inputs")
        return {"cost_inputs": previous}
    except Exception:  # a cost record must never fail a run
        return {}


def plan_cost(ws: Workspace) -> dict[str, Any]:
    """``{"cost": {...}}`` for `plan`: the estimate now, at the last deploy, and the delta."""
    from tscloud_py.cost import cost_inputs, estimate, load_prices

    last_run = ws.journal.data.get("last_run") or {}
    try:
        prices = load_prices(ws.config.region)
        now = estimate(cost_inputs(ws.config), prices)
    except TscloudError as exc:
        return {"cost": {"error": exc.message, "hint": exc.hint}}
    doc: dict[str, Any] = {"monthly_usd": round(now.total, 2), "prices_as_of": prices.as_of,
                           "assumptions": "defaults of `tscloud cost`"}
    if "cost_inputs" not in last_run:
        doc.update({"previous_monthly_usd": None, "delta_usd": round(now.total, 2),
                    "previous": "no deploy recorded"})
        return {"cost": doc}
    previous_inputs = last_run["cost_inputs"]
    before_items: dict[str, float] = {}
    if previous_inputs is not None:
        try:
            previous = estimate(previous_inputs, load_prices(previous_inputs.get("region", ws.config.region)))
            before_items = {i.id: i.usd for i in previous.items}
        except (TscloudError, KeyError, TypeError):
            return {"cost": {**doc, "previous_monthly_usd": None, "delta_usd": None,
                             "previous": "the recorded deploy cannot be priced"}}
    before = sum(before_items.values())
    doc.update({"previous_monthly_usd": round(before, 2), "delta_usd": round(now.total - before, 2),
                "previous": f"last {last_run.get('kind', 'run')}"
                            + ("" if last_run.get("ok", True) else " (failed)")})
    now_items = {i.id: i.usd for i in now.items}
    doc["changed_items"] = {k: round(now_items.get(k, 0.0) - before_items.get(k, 0.0), 2)
                            for k in sorted(set(before_items) | set(now_items))
                            if abs(now_items.get(k, 0.0) - before_items.get(k, 0.0)) >= 0.005}
    return {"cost": doc}


def plan_cost_line(cost: dict[str, Any] | None) -> str | None:
    """One line for the text plan."""
    if not cost:
        return None
    if "error" in cost:
        return f"cost: not estimated ({cost['error']})"
    now = cost["monthly_usd"]
    if cost.get("previous_monthly_usd") is None:
        return f"cost: ~${now:.2f}/month ({cost.get('previous', 'no deploy recorded')}; see `tscloud cost`)"
    delta = cost["delta_usd"]
    sign = "+" if delta >= 0 else "-"
    parts = ", ".join(f"{k} {'+' if v >= 0 else '-'}${abs(v):.2f}" for k, v in cost.get("changed_items", {}).items())
    return (f"cost: ~${now:.2f}/month, {sign}${abs(delta):.2f} vs the {cost['previous']} "
            f"(${cost['previous_monthly_usd']:.2f})" + (f": {parts}" if parts else "") + "; see `tscloud cost`")
