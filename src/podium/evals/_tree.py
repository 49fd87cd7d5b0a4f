"""What a case file may name in a workflow: its steps, its routers and their routes."""

from __future__ import annotations

from collections.abc import Iterator

from .._core._step import AnyStep
from ..routers._base import RouterBase

__all__ = ('find_router', 'steps_by_name')


def _walk(step: AnyStep, seen: set[int]) -> Iterator[AnyStep]:
    if id(step) in seen:  # a step reused on two routes is listed once
        return
    seen.add(id(step))
    yield step
    for _, child in step.children():
        yield from _walk(child, seen)


def steps_by_name(workflow: AnyStep) -> dict[str, AnyStep]:
    """Every step of `workflow` by name, in tree order (the first of two steps sharing a name wins)."""
    found: dict[str, AnyStep] = {}
    for step in _walk(workflow, set()):
        found.setdefault(step.name, step)
    return found


def find_router(workflow: AnyStep, name: str | None) -> RouterBase[object, object] | None:
    """The router called `name`, or the outermost router when `name` is None."""
    found = (step for step in _walk(workflow, set()) if isinstance(step, RouterBase))
    return next((r for r in found if name is None or r.name == name), None)
