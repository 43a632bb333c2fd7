"""The one scheduler: runs work on every step of a graph in parallel, each as soon as its prerequisites are done.

Deploy, destroy, plan and the destroy plan all walk their graph through ``walk``; they differ only in
what a step's work is and which way the edges point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from tscloud_py.engine.step import Step

R = TypeVar("R")

DEFAULT_WORKERS = 8


def walk(
    order: Sequence[Step],
    prerequisites: Callable[[Step], Sequence[str]],
    work: Callable[[Step], R],
    *,
    max_workers: int = DEFAULT_WORKERS,
    blocks: Callable[[R], bool] = lambda _result: False,
    skip: Callable[[Step, list[str]], R] | None = None,
    each: Callable[[dict[str, R]], None] | None = None,
) -> dict[str, R]:
    """``work(step)`` for every step, by id, each started once every prerequisite has a result.

    ``each(results)``: called on the walk's thread whenever results have come in, with all of them so far.

    A step one of whose prerequisites' results ``blocks`` is not worked on: ``skip(step, blocking ids)``
    gives its result. If ``work`` raises, the walk stops at once and the exception propagates; steps
    still running are abandoned, not waited for (a kill leaves the same state, and every step is safe to
    re-run), so an interrupt or a failed read never sits out someone else's slow call.
    """
    results: dict[str, R] = {}
    waiting = list(order)
    running: dict[Future[R], Step] = {}
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="step")
    try:
        while waiting or running:
            for step in list(waiting):
                pre = prerequisites(step)
                blocked = [p for p in pre if p in results and blocks(results[p])]
                if blocked and skip is not None:
                    waiting.remove(step)
                    results[step.id] = skip(step, blocked)
                    continue
                if all(p in results for p in pre):
                    waiting.remove(step)
                    running[pool.submit(work, step)] = step
            if not running:
                if waiting:
                    raise ValueError(f"steps {[s.id for s in waiting]} wait for steps outside the graph")
                continue
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                step = running.pop(fut)
                results[step.id] = fut.result()
            if each is not None:
                each(results)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results
