"""What every router shares: an allow-list of routes enforced in code, a declared fallback, and dispatch."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic

from typing_extensions import TypeVar

from .._core._errors import ConfigurationError
from .._core._flow import Flow, StepScope
from .._core._step import Step, common_class, require_step
from .._core._traits import StepInfo

__all__ = ('Allow', 'Route', 'RouterBase')

InT = TypeVar('InT')
OutT = TypeVar('OutT')

Allow = Callable[[Any, object], Collection[str]]
"""`(input, deps) -> routes this request may take`: a per-request allow-list, such as a caller's permissions."""


@dataclass(frozen=True)
class Route(Generic[InT, OutT]):
    """A route's step with the description an LLM router reads when choosing it."""

    step: Step[InT, OutT, Any]
    description: str


class RouterBase(Step[InT, OutT, Any]):
    """Dispatches to one step per route; a route outside the allow-list never reaches a step."""

    def __init__(
        self,
        routes: Mapping[str, Step[InT, OutT, Any] | Route[InT, OutT]],
        *,
        fallback: str,
        allow: Allow | None,
        name: str,
    ) -> None:
        if not routes:
            raise ConfigurationError(f'router {name!r} needs at least one route')
        self.steps: dict[str, Step[InT, OutT, Any]] = {}
        self.descriptions: dict[str, str] = {}
        for route, target in routes.items():
            if not route or not route.strip():
                raise ConfigurationError(f'router {name!r} has an empty route name')
            if isinstance(target, Route):
                self.steps[route] = require_step(target.step, f'route {route!r} of router {name!r}')
                self.descriptions[route] = target.description
            else:
                self.steps[route] = require_step(target, f'route {route!r} of router {name!r}')
                self.descriptions[route] = getattr(target, 'description', None) or route.replace('_', ' ')
        if fallback not in self.steps:
            raise ConfigurationError(
                f'router {name!r}: fallback {fallback!r} is not one of its routes {sorted(self.steps)}; add a route '
                'for it'
            )
        self.fallback = fallback
        self.allow = allow
        self.name = name
        self.input_class = common_class(s.input_class for s in self.steps.values())
        self.output_class = common_class(s.output_class for s in self.steps.values())

    record_kind = 'router'

    def describe(self) -> StepInfo:
        return StepInfo(kind='choice', children=list(self.steps.items()), routes=tuple(self.steps))

    async def dispatch(self, route: str | None, input: InT, flow: Flow, scope: StepScope, *, why: str | None) -> OutT:
        """Run the step of `route`, or of the fallback when `route` is unknown, missing or not allowed.

        `why` is the reason to record when the caller already knows the fallback must be taken.
        """
        reason = why
        if reason is None:
            if route is None or route not in self.steps:
                reason = 'unknown_route'
            elif self.allow is not None and route not in self.allow(input, flow.deps):
                reason = 'denied'
                scope.detail['authz'] = 'denied'
                scope.detail['denied_route'] = route
        if reason is not None:
            if route is not None:
                scope.detail.setdefault('requested_route', route)
            route = self.fallback
            scope.falling_back(reason, to=route)
            if reason == 'no_match':
                scope.fallback_reason = reason  # nothing matched: the fallback is the intended path, not a degradation
            else:
                scope.degrade(reason)
        assert route is not None
        scope.choose(route)
        scope.output = output = await self.steps[route].invoke(input, flow)
        return output
