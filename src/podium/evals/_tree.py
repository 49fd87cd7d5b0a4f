"""Finding steps in a workflow: the steps and routers a case file may name, and the routers metrics read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._core._step import AnyStep
from ..routers._base import RouterBase
from ..routers._model_router import ModelRouter
from ..routers._semantic import SemanticRouter

__all__ = ('escalating_router', 'find_cascade', 'find_router', 'steps_by_name')


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
    """The router called `name`, or the outermost router when `name` is None.

    A router that is a semantic router's `escalate` step runs only for the messages the semantic router is unsure
    of, while the semantic router's record carries the route either way: the semantic router is judged instead.
    """
    routers = [step for step in _walk(workflow, set()) if isinstance(step, RouterBase)]
    found = next((r for r in routers if name is None or r.name == name), None)
    if found is None:
        return None
    return next((r for r in routers if isinstance(r, SemanticRouter) and r.escalate is found), found)


def escalating_router(workflow: AnyStep) -> SemanticRouter[Any, Any] | ModelRouter[Any, Any] | None:
    """The outermost router whose record says whether it escalated: a semantic router or a model cascade."""
    return next((s for s in _walk(workflow, set()) if isinstance(s, SemanticRouter | ModelRouter)), None)


def find_cascade(workflow: AnyStep) -> ModelRouter[Any, Any] | None:
    """The outermost `ModelRouter`, whose tiers can be pinned for an always-strong baseline."""
    return next((s for s in _walk(workflow, set()) if isinstance(s, ModelRouter)), None)
