"""Finding steps in a workflow: the steps and routers a case file may name, and the routers metrics read.

Routers are found by what they say of themselves (`StepInfo.routes`), never by their class.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from .._core._step import AnyStep
from ..routers._cost import Prices

__all__ = ('Cascade', 'escalating_router', 'find_cascade', 'find_guards', 'find_router', 'steps_by_name')


@runtime_checkable
class Cascade(Protocol):
    """A router over model tiers that can be pinned to one tier, for an always-strong baseline (`ModelRouter`)."""

    name: str
    order: list[str]
    prices: Prices | None
    threshold: float
    accept: object

    def pin(self, tier: str) -> AbstractContextManager[None]:
        """Within the block, runs use `tier` alone."""
        ...


def _walk(step: AnyStep, seen: set[int]) -> Iterator[AnyStep]:
    if id(step) in seen:  # a step reused on two routes is listed once
        return
    seen.add(id(step))
    yield step
    for _, child in step.describe().children:
        yield from _walk(child, seen)


def steps_by_name(workflow: AnyStep) -> dict[str, AnyStep]:
    """Every step of `workflow` by name, in tree order (the first of two steps sharing a name wins)."""
    found: dict[str, AnyStep] = {}
    for step in _walk(workflow, set()):
        found.setdefault(step.name, step)
    return found


def find_router(workflow: AnyStep, name: str | None) -> AnyStep | None:
    """The router called `name`, or the outermost router when `name` is None.

    A router that another router escalates to runs only for the messages that one is unsure of, while the
    escalating router's record carries the route either way: the escalating router is judged instead.
    """
    routers = [step for step in _walk(workflow, set()) if step.describe().routes is not None]
    found = next((r for r in routers if name is None or r.name == name), None)
    if found is None:
        return None
    return next((r for r in routers if r.describe().escalates_to is found), found)


def find_guards(workflow: AnyStep) -> list[str]:
    """The names of the guards in `workflow`, in tree order: steps that say they guard an input or output."""
    return list(dict.fromkeys(s.name for s in _walk(workflow, set()) if s.describe().guards is not None))


def escalating_router(workflow: AnyStep) -> AnyStep | None:
    """The outermost router whose record says whether it escalated: a semantic router or a model cascade."""
    return next((s for s in _walk(workflow, set()) if s.describe().escalates), None)


def find_cascade(workflow: AnyStep) -> Cascade | None:
    """The outermost router over pinnable model tiers (a `ModelRouter`)."""
    return next((s for s in _walk(workflow, set()) if isinstance(s, Cascade)), None)
