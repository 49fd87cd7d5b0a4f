"""What a step says about itself, so that graphs, evals, durability and tracing never switch on step classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from pydantic_ai.agent import AbstractAgent

    from ._step import AnyStep

__all__ = ('StepInfo', 'StepKind')

StepKind: TypeAlias = Literal['call', 'sequence', 'choice', 'fan-out', 'loop', 'wrapper']
"""The shape of a step, which is all a reader of the step tree needs to know to walk and draw it:

- `call`: does its own work (an agent or function call); no children.
- `sequence`: runs its children one after another, each output feeding the next.
- `choice`: runs one of its children, chosen per input (routers, branches).
- `fan-out`: runs its children (or its one child over many items) concurrently.
- `loop`: runs its child again and again on its own output.
- `wrapper`: runs its child under a policy (retry, fallback, default, hedge, timeout, breaker).
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class StepInfo:
    """A step's description of itself, read by every module that walks a workflow."""

    kind: StepKind
    """The step's shape."""
    children: Sequence[tuple[str, AnyStep]] = ()
    """The steps it runs, each with the label of its edge (a route, `then`, `each`, ...); empty for a call."""
    deterministic: bool = True
    """Whether, given its input and its children's outputs, the step always takes the same course.

    Agent calls, and wrappers whose course depends on timing (hedge, timeout) or on process state (a breaker),
    are not: a durable run checkpoints such a step as one unit instead of replaying its course.
    """
    decides_with: AbstractAgent[Any, Any] | None = None
    """The agent whose answer picks the route, for LLM routers: a durable run records that agent's model calls."""
    routes: tuple[str, ...] | None = None
    """For routers: the route names it can choose from, in order; evals read routers by this."""
    escalates: bool = False
    """For routers whose record says whether they escalated (detail `escalated`): semantic routers, cascades."""
    escalates_to: AnyStep | None = None
    """For routers that ask another router when unsure: that router, whose records this one's decision stands for."""
    model: str | None = None
    """For steps that call one model: its name, when known before the call (records say which model answered)."""
    pauses: bool = False
    """Whether the step waits for a person (an approval): it cannot sit inside a unit a durable run records whole."""
    transparent: bool = False
    """Whether the step leaves no record or span of its own (an unnamed chain: its steps' records say it all)."""
    guards: Literal['input', 'output'] | None = None
    """For guards: what they check; evals measure each guard's precision and recall by this."""
