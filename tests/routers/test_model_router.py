from __future__ import annotations

import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from inline_snapshot import snapshot
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.usage import UsageLimits

import podium
import podium.routers
import podium.testing
from podium import BudgetExceeded, ConfigurationError, NoRoute, Step, WorkflowError
from podium.evals import Confusion
from podium.evals._routing_metrics import (
    cascade_trials,
    confusion_matrix,
    cost_quality_curve,
    cost_vs_strong,
    escalation_rate,
    quality_vs_strong,
    routing_accuracy,
)
from podium.routers import PriceUnknown
from podium.routers._calibrate import CurvePoint
from podium.routers._checks import Candidate, ConfidenceCheck, VerifierCheck, llm_judge
from podium.routers._cost import ModelPrice, RunCost, run_cost
from podium.routers._hashing import HashingEmbeddingModel
from podium.routers._model_router import ModelRouter
from podium.routers._semantic import SemanticRouter
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).parents[2] / 'examples'
sys.path.insert(0, str(EXAMPLES))
import model_cascade  # noqa: E402
import semantic_desk  # noqa: E402


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


class Answer(BaseModel):
    value: int
    confidence: float


PRICES = {
    'cheap-model': ModelPrice(input_per_mtok=0.1, output_per_mtok=0.4),
    'strong-model': ModelPrice(input_per_mtok=1, output_per_mtok=4),
}


def tier(name: str, answer: object) -> Step[str, Answer]:
    model = ScriptedModel(default=answer, model_name=f'{name}-model')  # type: ignore[arg-type]
    return podium.agent(Agent(model, output_type=Answer, name=name))


def cascade(cheap: object, strong: object = None, **kwargs: object) -> ModelRouter[str, Answer]:
    options: dict[str, object] = {'accept': ConfidenceCheck(), 'threshold': 0.7, 'prices': PRICES, **kwargs}
    tiers = {'cheap': tier('cheap', cheap), 'strong': tier('strong', strong or {'value': 4, 'confidence': 0.99})}
    return ModelRouter(tiers, **options)  # type: ignore[arg-type]


async def test_a_confident_cheap_answer_is_kept():
    result = await cascade({'value': 4, 'confidence': 0.9}).run('2 + 2?')

    assert result.summary() == snapshot(
        {
            'workflow': 'model_router',
            'status': 'ok',
            'output': {'value': 4, 'confidence': 0.9},
            'steps': [
                {
                    'name': 'model_router',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'cheap',
                    'detail': {'score.cheap': 0.9, 'escalated': False, 'escalations': 0, 'threshold': 0.7},
                    'attempts': [{'number': 1, 'model': 'cheap-model'}],
                },
                {
                    'name': 'cheap',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'cheap-model',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 53, 'output_tokens': 7},
                    'output': {'value': 4, 'confidence': 0.9},
                },
            ],
            'usage': {'requests': 1, 'input_tokens': 53, 'output_tokens': 7},
        }
    )


async def test_an_unsure_cheap_answer_escalates_and_the_record_says_why():
    result = await cascade({'value': 5, 'confidence': 0.4}).run('2 + 2?')

    assert result.summary() == snapshot(
        {
            'workflow': 'model_router',
            'status': 'ok',
            'output': {'value': 4, 'confidence': 0.99},
            'steps': [
                {
                    'name': 'model_router',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'strong',
                    'detail': {
                        'score.cheap': 0.4,
                        'reason.cheap': 'below_threshold',
                        'escalated': True,
                        'escalations': 1,
                        'threshold': 0.7,
                    },
                    'attempts': [{'number': 1, 'model': 'cheap-model'}, {'number': 2, 'model': 'strong-model'}],
                },
                {
                    'name': 'cheap',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'cheap-model',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 53, 'output_tokens': 7},
                    'output': {'value': 5, 'confidence': 0.4},
                },
                {
                    'name': 'strong',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'strong-model',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 53, 'output_tokens': 7},
                    'output': {'value': 4, 'confidence': 0.99},
                },
            ],
            'usage': {'requests': 2, 'input_tokens': 106, 'output_tokens': 14},
        }
    )


async def test_an_invalid_cheap_output_escalates():
    result = await cascade({'value': 'four', 'confidence': 0.9}).run('2 + 2?')

    assert result.record('model_router').summary() == snapshot(
        {
            'name': 'model_router',
            'kind': 'router',
            'status': 'ok',
            'route': 'strong',
            'detail': {'reason.cheap': 'invalid_output', 'escalated': True, 'escalations': 1, 'threshold': 0.7},
            'attempts': [{'number': 1, 'error': 'UnexpectedModelBehavior'}, {'number': 2, 'model': 'strong-model'}],
        }
    )


async def test_a_verifier_step_decides():
    def even(candidate: Candidate[str, Answer]) -> bool:
        return candidate.output.value % 2 == 0

    router = cascade({'value': 5, 'confidence': 0.99}, accept=VerifierCheck(podium.step(even)))

    result = await router.run('2 + 2?')

    assert [(r.name, r.output) for r in result.steps if r.kind == 'function'] == [('even', False)]
    assert (result.output.value, result.record('model_router').detail['score.cheap']) == (4, 0.0)


async def test_an_llm_judge_decides():
    judge = llm_judge(ScriptedModel(default={'score': 0.2, 'reason': '2 + 2 is not 5'}, model_name='judge-model'))
    router = cascade({'value': 5, 'confidence': 0.99}, accept=judge)

    result = await router.run('2 + 2?')

    judged = result.record('judge')
    assert (judged.model, judged.summary()['output'], result.record('model_router').route) == (
        'judge-model',
        {'score': 0.2, 'reason': '2 + 2 is not 5'},
        'strong',
    )


async def test_a_check_that_cannot_judge_escalates_and_degrades():
    router = cascade({'value': 4, 'confidence': 0.9}, accept=ConfidenceCheck('certainty'))

    result = await router.run('2 + 2?')

    record = result.record('model_router')
    assert (record.route, record.status, record.fallback_reason, record.detail['error.cheap']) == (
        'strong',
        'degraded',
        'check_failed',
        "MissingOutputField: output Answer has no field 'certainty' to read a confidence from",
    )


async def test_a_classifier_picks_the_first_tier():
    router = cascade(
        {'value': 4, 'confidence': 0.1}, classify=lambda text: 'strong' if '*' in text else 'cheap', accept=None
    )

    hard, easy = await router.run('17 * 23?'), await router.run('2 + 2?')

    assert [r.name for r in hard.steps] == ['model_router', 'strong']
    assert [r.name for r in easy.steps] == ['model_router', 'cheap']
    assert (hard.record('model_router').detail['classified'], easy.output.confidence) == ('strong', 0.1)


async def test_a_classifier_naming_no_tier_starts_from_the_fallback():
    difficulty = podium.step(lambda text: 'expert', name='difficulty')
    router = cascade({'value': 4, 'confidence': 0.9}, classify=difficulty)

    result = await router.run('2 + 2?')

    record = result.record('model_router')
    assert (record.route, record.fallback_reason, record.detail['requested_route']) == (
        'strong',
        'unknown_route',
        'expert',
    )
    assert [r.name for r in result.steps] == ['model_router', 'difficulty', 'strong']


async def test_tiers_outside_the_allow_list_are_skipped():
    router = cascade(
        {'value': 5, 'confidence': 0.1}, allow=lambda text, deps: {'cheap'} if deps == 'free' else {'strong'}
    )

    free, paid = await router.run('2 + 2?', deps='free'), await router.run('2 + 2?', deps='paid')

    assert (free.output.value, free.record('model_router').route) == (5, 'cheap')
    assert [r.name for r in paid.steps] == ['model_router', 'strong']
    with pytest.raises(NoRoute, match='the allow-list lets this request use none of its tiers'):
        await cascade({'value': 4, 'confidence': 1}, allow=lambda text, deps: set()).run('2 + 2?')


async def test_a_failing_strongest_tier_fails_the_run_with_every_record():
    router = cascade({'value': 'x', 'confidence': 0.9}, {'value': 'y', 'confidence': 0.9})

    with pytest.raises(WorkflowError, match="step 'strong' failed: UnexpectedModelBehavior") as caught:
        await router.run('2 + 2?')

    assert [(r.name, r.status) for r in caught.value.records] == [
        ('model_router', 'failed'),
        ('cheap', 'failed'),
        ('strong', 'failed'),
    ]


async def test_the_run_budget_is_never_escalated_past():
    with pytest.raises(BudgetExceeded, match='request_limit'):
        await cascade({'value': 5, 'confidence': 0.1}).run('2 + 2?', usage_limits=UsageLimits(request_limit=1))


async def test_pinning_a_tier_runs_it_alone_and_still_scores_it():
    router = cascade({'value': 5, 'confidence': 0.1})

    with router.pin('cheap'):
        result = await router.run('2 + 2?')

    assert result.record('model_router').summary() == snapshot(
        {
            'name': 'model_router',
            'kind': 'router',
            'status': 'ok',
            'route': 'cheap',
            'detail': {'pinned': 'cheap', 'score.cheap': 0.1, 'escalated': False, 'escalations': 0, 'threshold': 0.7},
            'attempts': [{'number': 1, 'model': 'cheap-model'}],
        }
    )
    with pytest.raises(ConfigurationError, match="has no tier 'medium'; its tiers are"):
        router.pin('medium').__enter__()


def test_a_cascade_needs_two_tiers_and_a_threshold_within_0_and_1():
    with pytest.raises(ConfigurationError, match=r'has 1 tier\(s\); it needs at least two, cheapest first'):
        ModelRouter({'only': tier('only', {'value': 1, 'confidence': 1})})
    with pytest.raises(ConfigurationError, match=r'threshold must be within \[0, 1\], got 1.5'):
        cascade({'value': 1, 'confidence': 1}, threshold=1.5)


# ---------------------------------------------------------------- cost
async def test_a_run_is_priced_by_the_prices_given():
    result = await cascade({'value': 5, 'confidence': 0.4}).run('2 + 2?')

    assert run_cost(result, PRICES) == snapshot(
        RunCost(
            total=Decimal('0.0000891'),
            priced=Decimal('0.0000891'),
            by_model={'cheap-model': Decimal('0.0000081'), 'strong-model': Decimal('0.000081')},
            unpriced=(),
        )
    )


async def test_missing_prices_are_named_never_counted_as_zero():
    result = await cascade({'value': 5, 'confidence': 0.4}).run('2 + 2?')

    cost = run_cost(result)

    assert (cost.total, cost.unpriced, cost.priced) == (None, ('cheap-model', 'strong-model'), Decimal(0))
    with pytest.raises(PriceUnknown, match=r"no price known for 'cheap-model', 'strong-model': pass prices=") as caught:
        cost.require()
    assert caught.value.models == ('cheap-model', 'strong-model')


async def test_models_genai_prices_knows_need_no_prices():
    step = podium.agent(Agent(ScriptedModel(default='hi', model_name='gpt-4o-mini'), name='chat'))

    result = await step.run('hello')

    assert run_cost(result).total is not None
    assert (
        run_cost(result).total
        == run_cost(result, {'openai:gpt-4o-mini': ModelPrice(input_per_mtok=0.15, output_per_mtok=0.6)}).total
    )


async def test_calibrating_unpriced_models_is_a_clear_error():
    router = cascade({'value': 4, 'confidence': 0.9}, prices=None)

    with pytest.raises(PriceUnknown, match="no price known for 'cheap-model'"):
        await router.calibrate([('2 + 2?', {'value': 4})] * 100, level=0)


async def test_a_calibration_set_too_small_for_the_target_is_reported_without_any_model_call():
    router = cascade({'value': 4, 'confidence': 0.9})

    result = await router.calibrate([('2 + 2?', {'value': 4})] * 40, target_quality=0.95)

    assert (result.status, result.reason, result.threshold) == snapshot(
        (
            'too_few_cases',
            'a 95% quality target needs at least 45 calibration and 20 held-out cases; got 28 and 12: add cases or '
            'lower target_quality',
            None,
        )
    )
    assert router.threshold == 0.7


# ---------------------------------------------------------------- metrics from runs
async def test_routing_metrics_from_runs():
    router = cascade({'value': 4, 'confidence': 0.9})
    unsure = cascade({'value': 5, 'confidence': 0.2})
    runs = [await router.run('a'), await unsure.run('b'), await unsure.run('c')]
    with router.pin('strong'):
        strong = [await router.run(text) for text in 'abc']

    assert escalation_rate(runs) == pytest.approx(2 / 3)
    assert cost_vs_strong(runs, strong, prices=PRICES) == snapshot(0.7666666666666667)
    assert cost_vs_strong(runs, strong) is None
    assert quality_vs_strong([1, 1, 0], [True, True, True]) == pytest.approx(2 / 3)
    assert routing_accuracy(runs, ['cheap', 'strong', 'cheap']) == pytest.approx(2 / 3)
    assert confusion_matrix(runs, ['cheap', 'strong', 'cheap']) == snapshot(
        Confusion(labels=['cheap', 'strong'], matrix=[[1, 1], [0, 1]])
    )


async def test_a_cost_quality_curve_from_runs_pinned_to_each_tier():
    router = cascade({'value': 4, 'confidence': 0.9})
    runs = {}
    for name in router.order:
        with router.pin(name):
            runs[name] = [await router.run(text) for text in ('a', 'b')]

    trials = cascade_trials(runs, {'cheap': [1, 0], 'strong': [1, 1]}, router='model_router', prices=PRICES)

    assert cost_quality_curve(trials) == snapshot(
        (CurvePoint(threshold=0.9, quality_vs_strong=0.5, cost_vs_strong=0.10000000000000002, escalation_rate=0.0),)
    )


# ---------------------------------------------------------------- the examples
def test_the_cascade_example_calibrates_to_its_default_threshold(capsys: pytest.CaptureFixture[str]):
    model_cascade.main([])

    out = capsys.readouterr().out
    assert f'threshold {model_cascade.DEFAULT_THRESHOLD} keeps' in out
    assert out == snapshot("""\
models:       SIMULATED models (offline, deterministic, not LLMs): pass --cheap and --strong to use real ones
calibration:  met: threshold 0.72 keeps 97.1% of the strong model quality at 34.0% of its cost on 36 held-out cases
threshold:    0.72 (cheap answers with confidence below it go to the strong model)
quality:      97.1% of always-strong on 36 held-out cases
cost:         34.0% of always-strong
escalated:    27.8% of questions
""")


async def test_the_cascade_example_workflow_answers_and_escalates():
    easy, hard = (
        await model_cascade.workflow.run('What is 22 - 11?'),
        await model_cascade.workflow.run('What is 57 * 84?'),
    )

    assert [(r.output.value, r.record('model_cascade').route) for r in (easy, hard)] == snapshot(
        [(11, 'cheap'), (4788, 'strong')]
    )


async def test_the_semantic_desk_example_counts_the_messages_that_needed_the_llm_router():
    counts = await semantic_desk.route_all(semantic_desk.build_workflow(), semantic_desk.messages())

    assert dict(counts) == snapshot({'semantic': 25, 'semantic_right': 22, 'llm': 44, 'llm_right': 36})


# ---------------------------------------------------------------- the guide
GUIDE = Path(__file__).parents[2] / 'docs' / 'routing.md'
EXPORTS = {
    podium: {'ModelRouter': ModelRouter, 'SemanticRouter': SemanticRouter},
    podium.routers: {'ConfidenceCheck': ConfidenceCheck, 'ModelPrice': ModelPrice, 'run_cost': run_cost},
    podium.testing: {'HashingEmbeddingModel': HashingEmbeddingModel},
}
"""Names the guide imports from the public facades, which re-export them from the private modules."""


def test_the_routing_guide_runs_and_prints_what_it_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    for module, names in EXPORTS.items():
        for name, value in names.items():
            monkeypatch.setattr(module, name, getattr(module, name, value), raising=False)
    namespace: dict[str, object] = {'__name__': '__docs__'}

    for code in re.findall(r'```python\n(.*?)```', GUIDE.read_text(), flags=re.S):
        exec(compile(code, str(GUIDE), 'exec'), namespace)

        printed = [line.strip().removeprefix('#> ') for line in code.splitlines() if line.strip().startswith('#> ')]
        assert capsys.readouterr().out.splitlines() == printed, code
