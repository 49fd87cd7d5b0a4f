"""`SemanticRouter`: routing by embedding similarity to each route's example messages, escalating when unsure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import anyio
from pydantic_ai.embeddings import Embedder, EmbeddingModel
from pydantic_ai.usage import RunUsage
from typing_extensions import TypeVar

from .._core._attempts import collect_attempts
from .._core._errors import ConfigurationError, EmbeddingFailed
from .._core._flow import Flow, StepScope
from .._core._step import Step, ensure_named
from .._core._traits import StepInfo
from ..agents._prompt import render_prompt
from ._base import Allow, Route, RouterBase
from ._semantic_embedder import SafeEmbedder
from ._semantic_fit import Scored, SemanticFit, evaluate, tune
from ._split import holdout_split
from ._vectors import EmbeddingCache, Vector, embed_texts, model_key, similarity

__all__ = ('SemanticRouter',)

InT = TypeVar('InT')
OutT = TypeVar('OutT')


class SemanticRouter(RouterBase[InT, OutT]):
    """Routes to the route whose example messages (`utterances`) are most similar to the input; no LLM call.

    When the best similarity is below that route's threshold the router is unsure: it hands the input to
    `escalate` (typically an LLM `Router` over the same routes, so the LLM runs only for the hard messages) or, without
    one, sends it to the `fallback` route (`fallback_reason='low_similarity'`). The record's `detail` says what
    happened: `nearest`, `similarity`, `threshold`, `escalated`. Allow-list and fallback work as for every router.

    Utterance vectors are computed on first use, once per embedding model and text (see `EmbeddingCache`): building
    the router calls no model. An embedding model that fails or returns unusable vectors makes the router escalate
    (`fallback_reason='embedding_failed'`), or raise `EmbeddingFailed` when it has nowhere to escalate to.
    """

    def __init__(
        self,
        routes: Mapping[str, Step[InT, OutT, Any] | Route[InT, OutT]],
        *,
        utterances: Mapping[str, Sequence[str]],
        embedder: Embedder | EmbeddingModel | str,
        fallback: str,
        threshold: float = 0.5,
        thresholds: Mapping[str, float] | None = None,
        escalate: Step[InT, OutT] | None = None,
        prompt: Callable[[InT], str] | None = None,
        allow: Allow | None = None,
        cache: EmbeddingCache | None = None,
        name: str = 'semantic_router',
    ) -> None:
        """Build the router; nothing is embedded until the first run.

        Args:
            routes: The step of each route, as for `Router`.
            utterances: Example messages per route. Every route needs some, except the fallback.
            embedder: Any Pydantic-AI embedding model, as an `Embedder`, an `EmbeddingModel` or a model string.
            fallback: The route for messages nothing matches well enough, when there is no `escalate`.
            threshold: The similarity a route's nearest example must reach; `fit` tunes it per route.
            thresholds: Per-route thresholds, overriding `threshold`.
            escalate: The step unsure messages go to, usually an LLM `Router` over the same routes.
            prompt: Renders the input as the text to embed; `str` inputs are used as they are by default.
            allow: Per-request allow-list, as for `Router`.
            cache: Where utterance vectors are kept; pass one cache to several routers to share them.
            name: The step's name.
        """
        name = ensure_named(name, 'semantic_router')
        super().__init__(routes, fallback=fallback, allow=allow, name=name)
        self.utterances = _checked_utterances(name, utterances, self.steps, fallback)
        self.thresholds = {route: threshold for route in self.utterances}
        for route, value in (thresholds or {}).items():
            if route not in self.utterances:
                raise ConfigurationError(f'semantic router {name!r}: threshold for {route!r}, which has no utterances')
            self.thresholds[route] = value
        for route, value in self.thresholds.items():
            if not -1.0 <= value <= 1.0:
                raise ConfigurationError(
                    f'semantic router {name!r}: the threshold of {route!r} is {value}, outside the [-1, 1] range of '
                    'cosine similarity'
                )
        self.embedder = embedder if isinstance(embedder, Embedder) else Embedder(embedder)
        self.escalate = escalate
        self.prompt = prompt
        self.cache = cache if cache is not None else EmbeddingCache()
        self._lock = anyio.Lock()
        self._safe = SafeEmbedder()

    def describe(self) -> StepInfo:
        info = replace(super().describe(), escalates=True)
        if self.escalate is None:
            return info
        return replace(
            info, children=[*info.children, ('escalate', self.escalate)], escalates_to=self.escalate, escalates=True
        )

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        flow = scope.flow
        try:
            with collect_attempts() as attempts:
                try:
                    nearest, score = await self._nearest(self._text(input), flow, scope)
                finally:
                    # One clean request per text set is the norm; once any failed, the record shows every attempt.
                    if any(attempt.error is not None for attempt in attempts):
                        scope.attempts.extend(attempts)
        except EmbeddingFailed as exc:
            if self.escalate is None:
                raise
            scope.detail['error'] = exc.message
            scope.degrade('embedding_failed')
            return await self._escalate(input, flow, scope, self.escalate)
        threshold = self.thresholds[nearest]
        scope.detail.update(nearest=nearest, similarity=round(score, 4), threshold=round(threshold, 4))
        if score < threshold and self.escalate is not None:
            return await self._escalate(input, flow, scope, self.escalate)
        scope.detail['escalated'] = False
        if score >= threshold:
            return await self.dispatch(nearest, input, flow, scope, why=None)
        return await self.dispatch(None, input, flow, scope, why='low_similarity')

    async def fit(
        self,
        cases: Sequence[tuple[str, str]],
        *,
        holdout: float = 0.3,
        seed: int = 0,
        min_precision: float | None = None,
    ) -> SemanticFit:
        """Tune each route's threshold on labelled messages, set them, and report accuracy on held-out ones.

        Args:
            cases: `(message, route)` pairs; label a message with the fallback route when no route should take it.
            holdout: The share of each route's messages kept out of tuning to judge the result on.
            seed: Seeds the split, so a fit can be repeated.
            min_precision: Leave unset to maximise accuracy when unsure messages go to the fallback. Set it (e.g.
                0.95) for a router that escalates: each route then accepts as many messages as it can while at least
                this share of them are right, and escalates the rest.

        Raises:
            ConfigurationError: for labels that are not routes, or too few cases to keep some out.
            EmbeddingFailed: when the embedding model fails.
        """
        unknown = sorted({label for _, label in cases} - set(self.steps))
        if unknown:
            raise ConfigurationError(f'semantic router {self.name!r}: cases labelled with unknown routes {unknown}')
        if min_precision is not None and not 0.0 < min_precision <= 1.0:
            raise ConfigurationError(f'min_precision must be within (0, 1], got {min_precision}')
        calibration, held = holdout_split(cases, holdout, seed=seed, group=lambda case: case[1])
        if not calibration or not held:
            raise ConfigurationError(
                f'semantic router {self.name!r}: {len(cases)} cases leave {len(calibration)} to tune on and '
                f'{len(held)} to judge on at holdout={holdout}; give more cases'
            )
        vectors = await self._utterance_vectors(None)
        embedded = await embed_texts(self.embedder, [text for text, _ in cases], step=self.name, via=self._safe)
        labelled = dict(zip(cases, embedded.vectors, strict=True))

        def scored(split: list[tuple[str, str]]) -> list[Scored]:
            return [Scored(*_nearest(labelled[case], vectors), label=case[1]) for case in split]

        self.thresholds, untuned = tune(
            scored(calibration), self.thresholds, fallback=self.fallback, min_precision=min_precision
        )
        accuracy, coverage, precision = evaluate(scored(held), self.thresholds, fallback=self.fallback)
        return SemanticFit(
            thresholds=dict(self.thresholds),
            untuned=untuned,
            calibration_cases=len(calibration),
            holdout_cases=len(held),
            accuracy=accuracy,
            coverage=coverage,
            precision=precision,
        )

    def _text(self, input: InT) -> str:
        return render_prompt(input) if self.prompt is None else self.prompt(input)

    async def _nearest(self, text: str, flow: Flow, scope: StepScope) -> tuple[str, float]:
        vectors = await self._utterance_vectors(scope)
        embedded = await embed_texts(self.embedder, [text], step=self.name, via=self._safe)
        _count(scope, flow, embedded.usage, embedded.model)
        [vector] = embedded.vectors
        size = len(vectors[0][1])
        if len(vector) != size:
            raise EmbeddingFailed(
                f'router {self.name!r}: embedding model {model_key(self.embedder)!r} gave the input a vector of '
                f"size {len(vector)} but the utterances' vectors of size {size}; use one model (and one dimensions "
                'setting) for both',
                step=self.name,
            )
        return _nearest(vector, vectors)

    async def _utterance_vectors(self, scope: StepScope | None) -> list[tuple[str, Vector]]:
        """Every utterance's vector, embedding the ones not cached yet in one call (under a lock, so once)."""
        key = model_key(self.embedder)
        async with self._lock:
            missing = [
                text for texts in self.utterances.values() for text in texts if self.cache.get(key, text) is None
            ]
            if missing:
                embedded = await embed_texts(self.embedder, missing, step=self.name, via=self._safe)
                for text, vector in zip(missing, embedded.vectors, strict=True):
                    self.cache.put(key, text, vector)
                if scope is not None:
                    _count(scope, scope.flow, embedded.usage, embedded.model)
        pairs = [(route, self.cache.get(key, text)) for route, texts in self.utterances.items() for text in texts]
        vectors = [(route, vector) for route, vector in pairs if vector is not None]
        if len({len(vector) for _, vector in vectors}) > 1:
            raise EmbeddingFailed(
                f'router {self.name!r}: the utterance vectors of {key!r} differ in size; clear the cache shared with '
                'a router that used other dimensions',
                step=self.name,
            )
        return vectors

    async def _escalate(self, input: InT, flow: Flow, scope: StepScope, target: Step[InT, OutT]) -> OutT:
        scope.detail.update(escalated=True, escalated_to=target.name)
        first = flow.mark()
        scope.output = output = await target.invoke(input, flow)
        scope.route = next((r.route for r in flow.records_since(first) if r.name == target.name and r.route), None)
        return output


def _nearest(vector: Vector, vectors: Sequence[tuple[str, Vector]]) -> tuple[str, float]:
    best_route, best = vectors[0][0], -2.0
    for route, other in vectors:
        score = similarity(vector, other)
        if score > best:
            best_route, best = route, score
    return best_route, best


def _count(scope: StepScope, flow: Flow, usage: RunUsage, model: str) -> None:
    """Embedding calls are model calls: they count into the run's usage and limits, and the record names the model."""
    flow.add_usage(usage, step=scope.name)
    scope.usage = usage if scope.usage is None else scope.usage + usage
    scope.model = model


def _checked_utterances(
    name: str, utterances: Mapping[str, Sequence[str]], steps: Mapping[str, object], fallback: str
) -> dict[str, tuple[str, ...]]:
    unknown = sorted(set(utterances) - set(steps))
    if unknown:
        raise ConfigurationError(f'semantic router {name!r} has utterances for unknown routes {unknown}')
    found = {route: tuple(texts) for route, texts in utterances.items() if texts}
    if not found:
        raise ConfigurationError(f'semantic router {name!r} has no utterances; give each route some example messages')
    bare = [route for route in steps if route not in found and route != fallback]
    if bare:
        raise ConfigurationError(
            f'semantic router {name!r}: routes {bare} have no utterances; give each some example messages (only the '
            f'fallback {fallback!r} may have none)'
        )
    blank = sorted(route for route, texts in found.items() if any(not t.strip() for t in texts))
    if blank:
        raise ConfigurationError(f'semantic router {name!r}: routes {blank} have empty utterances')
    return found
