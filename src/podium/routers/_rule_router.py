"""`RuleRouter`: routing by a function or keywords, with no LLM call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from typing_extensions import TypeVar

from .._core._errors import ConfigurationError
from .._core._flow import StepScope
from .._core._step import Step, ensure_named
from ..agents._prompt import render_prompt
from ._base import Allow, Route, RouterBase

__all__ = ('RuleRouter',)

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class RuleRouter(RouterBase[InT, OutT]):
    """Routes by `rule(input)` or by the first route whose keyword appears in the input; zero model calls.

    No match goes to the fallback (`fallback_reason='no_match'`); a rule naming an unknown route or one outside the
    per-request `allow` list does too, as with `Router`.
    """

    def __init__(
        self,
        routes: Mapping[str, Step[InT, OutT, Any] | Route[InT, OutT]],
        *,
        fallback: str,
        rule: Callable[[InT], str | None] | None = None,
        keywords: Mapping[str, Sequence[str]] | None = None,
        allow: Allow | None = None,
        name: str = 'rule_router',
    ) -> None:
        super().__init__(routes, fallback=fallback, allow=allow, name=ensure_named(name, 'rule_router'))
        if (rule is None) == (keywords is None):
            raise ConfigurationError(f'rule router {name!r} needs exactly one of rule= or keywords=')
        if keywords is not None:
            unknown = sorted(set(keywords) - set(self.steps))
            if unknown:
                raise ConfigurationError(f'rule router {name!r} has keywords for unknown routes {unknown}')
        self.rule = rule
        for route, words in (keywords or {}).items():
            if isinstance(words, str) or not all(isinstance(w, str) and w for w in words):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ConfigurationError(
                    f'rule router {name!r}: the keywords of route {route!r} must be a list of non-empty words, '
                    f'got {words!r}'
                )
        self.keywords = {route: tuple(w.lower() for w in words) for route, words in (keywords or {}).items()}

    def _match(self, input: InT) -> str | None:
        if self.rule is not None:
            return self.rule(input)
        text = render_prompt(input).lower()
        return next((route for route, words in self.keywords.items() if any(w in text for w in words)), None)

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        route = self._match(input)
        return await self.dispatch(route, input, flow, scope, why='no_match' if route is None else None)
