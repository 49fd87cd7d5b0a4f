from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import anyio
import pytest
from inline_snapshot import snapshot
from pydantic_ai.embeddings import EmbeddingModel, EmbeddingResult, EmbeddingSettings
from pydantic_ai.embeddings.result import EmbedInputType
from pydantic_ai.usage import UsageLimits

import podium
from podium import BudgetExceeded, ConfigurationError, Router, Step
from podium.routers import EmbeddingFailed
from podium.routers._hashing import HashingEmbeddingModel
from podium.routers._semantic import SemanticRouter
from podium.routers._vectors import EmbeddingCache
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


UTTERANCES = {
    'billing': ['my invoice is wrong', 'please refund my payment'],
    'tech': ['the app crashes', 'login error'],
}


def specialist(name: str) -> Step[str, str]:
    return podium.step(lambda text: f'{name}: {text}', name=name)


def routes() -> dict[str, Step[str, str]]:
    return {name: specialist(name) for name in ('billing', 'tech', 'other')}


def llm_router(route: str = 'tech') -> Router[str, str]:
    model = ScriptedModel(default={'route': route, 'confidence': 0.9, 'reason': 'asked the LLM'}, model_name='llm')
    return Router(routes(), fallback='other', model=model, name='llm_router')


def semantic(embedder: EmbeddingModel | None = None, **kwargs: object) -> SemanticRouter[str, str]:
    options: dict[str, object] = {'threshold': 0.5, **kwargs}
    return SemanticRouter(
        routes(),
        utterances=UTTERANCES,
        embedder=embedder or HashingEmbeddingModel(),
        fallback='other',
        **options,  # type: ignore[arg-type]
    )


async def test_a_close_message_is_routed_by_similarity_alone():
    result = await semantic(escalate=llm_router()).run('my invoice is wrong again')

    assert result.summary() == snapshot(
        {
            'workflow': 'semantic_router',
            'status': 'ok',
            'output': 'billing: my invoice is wrong again',
            'steps': [
                {
                    'name': 'semantic_router',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'billing',
                    'model': 'hashing-bow',
                    'detail': {'nearest': 'billing', 'similarity': 0.8165, 'threshold': 0.5, 'escalated': False},
                    'usage': {'requests': 2, 'input_tokens': 18, 'output_tokens': 0},
                },
                {'name': 'billing', 'kind': 'function', 'status': 'ok', 'output': 'billing: my invoice is wrong again'},
            ],
            'usage': {'requests': 2, 'input_tokens': 18, 'output_tokens': 0},
        }
    )


async def test_an_unsure_message_escalates_to_the_llm_router_and_the_record_says_so():
    result = await semantic(escalate=llm_router('tech')).run('the payment page froze')

    assert result.summary() == snapshot(
        {
            'workflow': 'semantic_router',
            'status': 'ok',
            'output': 'tech: the payment page froze',
            'steps': [
                {
                    'name': 'semantic_router',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'tech',
                    'model': 'hashing-bow',
                    'detail': {
                        'nearest': 'billing',
                        'similarity': 0.3333,
                        'threshold': 0.5,
                        'escalated': True,
                        'escalated_to': 'llm_router',
                    },
                    'usage': {'requests': 2, 'input_tokens': 17, 'output_tokens': 0},
                },
                {
                    'name': 'llm_router',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'tech',
                    'confidence': 0.9,
                    'reason': 'asked the LLM',
                    'model': 'llm',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 54, 'output_tokens': 12},
                },
                {'name': 'tech', 'kind': 'function', 'status': 'ok', 'output': 'tech: the payment page froze'},
            ],
            'usage': {'requests': 3, 'input_tokens': 71, 'output_tokens': 12},
        }
    )


async def test_without_an_escalation_an_unsure_message_goes_to_the_fallback():
    result = await semantic().run('hello there')

    record = result.record('semantic_router')
    assert (result.output, record.status, record.fallback_reason, record.detail['escalated']) == (
        'other: hello there',
        'degraded',
        'low_similarity',
        False,
    )


async def test_a_nearest_route_the_caller_may_not_use_goes_to_the_fallback():
    router = semantic(allow=lambda text, deps: {'tech', 'other'})

    result = await router.run('my invoice is wrong')

    record = result.record('semantic_router')
    assert (result.output, record.fallback_reason, record.detail['denied_route']) == (
        'other: my invoice is wrong',
        'denied',
        'billing',
    )


async def test_utterances_are_embedded_once_lazily_and_never_at_construction():
    model = HashingEmbeddingModel()
    router = semantic(model)
    assert model.calls == []

    await router.run('the app crashes')
    await router.run('login error')

    assert model.calls == [
        ['my invoice is wrong', 'please refund my payment', 'the app crashes', 'login error'],
        ['the app crashes'],
        ['login error'],
    ]


async def test_concurrent_first_runs_embed_the_utterances_once():
    model = HashingEmbeddingModel()
    router = semantic(model)

    async with anyio.create_task_group() as group:
        for text in ('the app crashes', 'refund please', 'login error', 'my invoice'):
            group.start_soon(router.run, text)

    assert sum(len(call) == 4 for call in model.calls) == 1
    assert len(model.calls) == 5


async def test_routers_sharing_a_cache_share_the_utterance_vectors():
    model, cache = HashingEmbeddingModel(), EmbeddingCache()
    await semantic(model, cache=cache).run('the app crashes')
    await semantic(model, cache=cache).run('the app crashes')

    assert [len(call) for call in model.calls] == [4, 1, 1]
    assert len(cache) == 4


def test_a_model_string_is_not_resolved_at_construction(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv('OPENAI_API_KEY', raising=False)

    router = SemanticRouter(routes(), utterances=UTTERANCES, embedder='openai:text-embedding-3-small', fallback='other')

    assert router.embedder.model == 'openai:text-embedding-3-small'


async def test_embedding_calls_count_against_the_run_limits():
    with pytest.raises(BudgetExceeded, match='request_limit'):
        await semantic().run('the app crashes', usage_limits=UsageLimits(request_limit=1))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ('utterances', 'message'),
    [
        ({'billing': ['invoice']}, r"routes \['tech'\] have no utterances; give each some example messages"),
        ({'billing': ['invoice'], 'tech': []}, r"routes \['tech'\] have no utterances"),
        ({**UTTERANCES, 'legal': ['a lawyer']}, r"utterances for unknown routes \['legal'\]"),
        ({'billing': ['invoice', '  '], 'tech': ['crash']}, r"routes \['billing'\] have empty utterances"),
        ({}, 'has no utterances; give each route some example messages'),
    ],
)
def test_bad_utterances_are_rejected_at_construction(utterances: dict[str, list[str]], message: str):
    with pytest.raises(ConfigurationError, match=message):
        SemanticRouter(routes(), utterances=utterances, embedder=HashingEmbeddingModel(), fallback='other')


def test_thresholds_must_be_similarities_of_known_routes():
    with pytest.raises(ConfigurationError, match=r"threshold of 'tech' is 1.5, outside the \[-1, 1\] range"):
        semantic(thresholds={'tech': 1.5})
    with pytest.raises(ConfigurationError, match="threshold for 'other', which has no utterances"):
        semantic(thresholds={'other': 0.2})


class BrokenEmbedder(EmbeddingModel):
    """Fails every call, or answers with vectors of the wrong size or count after `good_calls` good ones."""

    def __init__(self, fault: str, good_calls: int = 0) -> None:
        super().__init__()
        self.fault = fault
        self.good_calls = good_calls
        self.inner = HashingEmbeddingModel(dimensions=8)

    @property
    def model_name(self) -> str:
        return 'broken'

    @property
    def system(self) -> str:
        return 'test'

    async def embed(
        self, inputs: str | Sequence[str], *, input_type: EmbedInputType, settings: EmbeddingSettings | None = None
    ) -> EmbeddingResult:
        result = await self.inner.embed(inputs, input_type=input_type, settings=settings)
        if self.good_calls > 0:
            self.good_calls -= 1
            return result
        if self.fault == 'raise':
            raise ConnectionError('embedding service unreachable')
        vectors = {
            'size': [[1.0] * 5 for _ in result.embeddings],
            'count': result.embeddings[:-1],
            'nan': [[math.nan] * 8 for _ in result.embeddings],
            'mixed': [[1.0] * (3 + i) for i, _ in enumerate(result.embeddings)],
        }[self.fault]
        return EmbeddingResult(
            embeddings=vectors, inputs=result.inputs, input_type=input_type, model_name='broken', provider_name='test'
        )


@pytest.mark.parametrize(
    ('fault', 'good_calls', 'message'),
    [
        ('raise', 0, "embedding model 'test:broken' failed: ConnectionError: embedding service unreachable"),
        ('size', 1, "gave the input a vector of size 5 but the utterances' vectors of size 8"),
        ('count', 0, 'returned 3 vectors for 4 texts'),
        ('nan', 0, 'returned NaN or infinite values'),
        ('mixed', 0, r'returned vectors of sizes \[3, 4, 5, 6\] in one call'),
    ],
)
async def test_an_embedding_model_that_fails_or_gives_bad_vectors_raises_a_clear_error(
    fault: str, good_calls: int, message: str
):
    with pytest.raises(EmbeddingFailed, match=message) as caught:
        await semantic(BrokenEmbedder(fault, good_calls)).run('the app crashes')

    assert [(r.name, r.status) for r in caught.value.records] == [('semantic_router', 'failed')]


async def test_with_an_escalation_a_failing_embedding_model_degrades_to_the_llm_router():
    result = await semantic(BrokenEmbedder('raise'), escalate=llm_router('billing')).run('refund')

    assert result.summary()['steps'][0] == snapshot(
        {
            'name': 'semantic_router',
            'kind': 'router',
            'status': 'degraded',
            'route': 'billing',
            'fallback_reason': 'embedding_failed',
            'detail': {
                'error': "router 'semantic_router': embedding model 'test:broken' failed: ConnectionError: embedding "
                'service unreachable',
                'escalated': True,
                'escalated_to': 'llm_router',
            },
            'attempts': [{'number': 1, 'model': 'broken', 'error': 'ConnectionError'}],
        }
    )


# ---------------------------------------------------------------- fit
LABELLED = [
    *[(f'my invoice {w} is wrong', 'billing') for w in ('total', 'amount', 'date', 'line', 'vat', 'pdf')],
    *[(f'refund my {w} payment', 'billing') for w in ('card', 'last', 'annual')],
    *[(f'the app crashes on {w}', 'tech') for w in ('startup', 'save', 'export', 'upload', 'print', 'open')],
    *[(f'login error with {w}', 'tech') for w in ('sso', 'google', 'password')],
    *[(f'{w} payment app error', 'tech') for w in ('mobile', 'ios')],
    *[(text, 'other') for text in ('hello', 'tell me a joke', 'the weather today', 'a poem', 'error in my essay')],
]


async def test_fit_tunes_each_threshold_and_reports_held_out_accuracy():
    router = semantic(threshold=0.9)

    fit = await router.fit(LABELLED, holdout=0.3, seed=1)

    assert asdict(fit) == snapshot(
        {
            'thresholds': {'billing': 0.3333333333333334, 'tech': 0.3535533905932738},
            'untuned': (),
            'calibration_cases': 17,
            'holdout_cases': 8,
            'accuracy': 1.0,
            'coverage': 0.75,
            'precision': 1.0,
        }
    )
    assert router.thresholds == fit.thresholds


async def test_fit_for_escalation_keeps_precision_and_escalates_the_rest():
    router = semantic(threshold=0.9, escalate=llm_router())

    fit = await router.fit(LABELLED, holdout=0.3, seed=1, min_precision=1.0)

    assert (fit.precision, fit.coverage) == snapshot((1.0, 0.625))


async def test_fit_rejects_unknown_labels_and_too_few_cases():
    router = semantic()
    with pytest.raises(ConfigurationError, match=r"cases labelled with unknown routes \['legal'\]"):
        await router.fit([('sue them', 'legal')])
    with pytest.raises(ConfigurationError, match=r'2 cases leave 2 to tune on and 0 to judge on at holdout=0\.3'):
        await router.fit([('refund', 'billing'), ('crash', 'tech')])


# ---------------------------------------------------------------- a real local embedding model
class WordLlamaEmbeddingModel(EmbeddingModel):
    """WordLlama's 256-dimension model, shipped inside its 19 MB wheel: real embeddings, no download."""

    def __init__(self) -> None:
        super().__init__()
        wordllama = pytest.importorskip('wordllama')
        self.model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    @property
    def model_name(self) -> str:
        return 'wordllama-l2-supercat-256'

    @property
    def system(self) -> str:
        return 'local'

    async def embed(
        self, inputs: str | Sequence[str], *, input_type: EmbedInputType, settings: EmbeddingSettings | None = None
    ) -> EmbeddingResult:
        texts, _ = self.prepare_embed(inputs, settings)
        vectors = self.model.embed(texts)
        return EmbeddingResult(
            embeddings=[[float(x) for x in row] for row in vectors],
            inputs=texts,
            input_type=input_type,
            model_name=self.model_name,
            provider_name=self.system,
        )


async def test_a_real_local_embedding_model_routes_paraphrases():
    router = semantic(WordLlamaEmbeddingModel(), threshold=0.1)

    routed = [
        (await router.run(text)).record('semantic_router').route for text in ('I was billed twice', 'it keeps freezing')
    ]

    assert routed == ['billing', 'tech']
