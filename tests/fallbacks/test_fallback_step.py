from __future__ import annotations

from collections.abc import Callable

import pytest
from fallback_faults import quota, rate_limited, server_error, unauthorized
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelRateLimitError, UsageLimitExceeded
from pydantic_ai.messages import ModelResponse

import podium
from podium import BudgetExceeded, ConfigurationError, StepOutputError
from podium.fallbacks import (
    AllModelsFailed,
    OutputRejected,
    ProviderAuthError,
    Refused,
    default,
    fallback,
)
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


class City(BaseModel):
    name: str
    population: int


PARIS = City(name='Paris', population=2_100_000)
FILTERED = ModelResponse(parts=[], finish_reason='content_filter', provider_details={'finish_reason': 'content_filter'})


def city_agent(model: ScriptedModel, name: str) -> podium.AgentStep[str, City]:
    return podium.agent(Agent(model, output_type=City, name=name))


def failing(fault: Callable[[], BaseException], name: str = 'primary') -> podium.FunctionStep[str, str]:
    async def primary(message: str) -> str:
        raise fault()

    return podium.step(primary, name=name)


@podium.step
def backup(message: str) -> str:
    return f'backup: {message}'


async def test_falls_back_and_says_why():
    result = await fallback(failing(quota), backup).run('hi')
    assert (result.output, result.status) == ('backup: hi', 'degraded')
    assert result.steps[0].summary() == {
        'name': 'fallback(primary, backup)',
        'kind': 'fallback',
        'status': 'degraded',
        'fallback_reason': 'quota',
        'detail': {'answered_by': 'backup'},
        'attempts': [{'number': 1, 'error': 'ModelQuotaExceededError', 'status_code': 429}, {'number': 2}],
        'output': 'backup: hi',
    }
    assert result.degraded_reasons == ('fallback(primary, backup): quota',)


async def test_equivalent_alternates_need_not_degrade():
    result = await fallback(failing(server_error), backup, degrade=False).run('hi')
    assert (result.status, result.steps[0].fallback_reason) == ('ok', 'server_error')


async def test_output_that_stays_invalid_falls_back_to_another_model():
    broken = ScriptedModel(default={'name': 'Paris'}, model_name='cheap')
    good = ScriptedModel(default=PARIS, model_name='strong')
    result = await fallback(city_agent(broken, 'cheap_city'), city_agent(good, 'strong_city')).run('capital?')
    assert result.output == PARIS
    assert len(broken.prompts) == 2  # the agent re-prompted once before giving up
    record = result.steps[0]
    assert (record.fallback_reason, record.detail) == ('invalid_output', {'answered_by': 'strong_city'})
    assert [(a.model, a.error) for a in record.attempts] == [
        ('cheap', None),  # every request that reached the model is recorded: the first answer was invalid too
        ('cheap', 'UnexpectedModelBehavior'),
        ('strong', None),
    ]


async def test_refusal_falls_back_and_ends_typed_when_everyone_refuses():
    strict = ScriptedModel(default=FILTERED, model_name='strict')
    lenient = ScriptedModel(default=PARIS, model_name='lenient')
    result = await fallback(city_agent(strict, 'strict'), city_agent(lenient, 'lenient')).run('?')
    assert (result.output, result.steps[0].fallback_reason) == (PARIS, 'refused')
    assert len(strict.prompts) == 1  # never re-asked

    also_strict = ScriptedModel(default=FILTERED, model_name='also_strict')
    with pytest.raises(Refused) as raised:
        await fallback(city_agent(strict, 'strict'), city_agent(also_strict, 'also_strict')).run('?')
    assert raised.value.reason == "Finish reason: 'content_filter'"
    assert len(raised.value.causes) == 2


async def test_output_predicate_rejects_an_output():
    def too_short(answer: str) -> bool:
        return len(answer) < 5

    @podium.step
    def terse(message: str) -> str:
        return 'ok'

    result = await fallback(terse, backup, on=too_short).run('hi')
    assert (result.output, result.steps[0].fallback_reason) == ('backup: hi', 'output_rejected')

    with pytest.raises(AllModelsFailed) as raised:
        await fallback(terse, terse, on=too_short).run('hi')
    assert [type(c) for c in raised.value.causes] == [OutputRejected, OutputRejected]
    assert str(raised.value.causes[0]) == "too_short rejected the output of 'terse'"


async def test_unmatched_failure_ends_the_fallback_typed():
    with pytest.raises(ProviderAuthError):
        await fallback(failing(unauthorized), backup, on=ModelRateLimitError).run('hi')
    result = await fallback(failing(rate_limited), backup, on=ModelRateLimitError).run('hi')
    assert result.output == 'backup: hi'


async def test_every_step_failing_raises_all_models_failed_with_each_cause():
    with pytest.raises(AllModelsFailed) as raised:
        await fallback(failing(quota), failing(server_error, name='second')).run('hi')
    error = raised.value
    assert [type(c).__name__ for c in error.causes] == ['ModelQuotaExceededError', 'ModelServerError']
    assert [r.name for r in error.records] == ['fallback(primary, second)', 'primary', 'second']
    assert 'ModelQuotaExceededError 429, ModelServerError 500' in str(error)


async def test_a_usage_limit_never_falls_back_or_degrades():
    def over_budget() -> BaseException:
        return UsageLimitExceeded('The next request would exceed the request_limit of 1')

    for workflow in (
        fallback(failing(over_budget), backup),
        fallback(failing(over_budget), backup, on=Exception),
        default(failing(over_budget), 'never'),
        default(failing(over_budget), 'never', on=Exception),
    ):
        with pytest.raises(BudgetExceeded):
            await workflow.run('hi')


async def test_default_degrades_an_outage_with_a_typed_value():
    result = await default(failing(server_error), 'please try again later').run('hi')
    assert result.output == 'please try again later'
    assert result.status == 'degraded'
    assert result.steps[0].summary() == {
        'name': 'default(primary)',
        'kind': 'default',
        'status': 'degraded',
        'fallback_reason': 'server_error',
        'detail': {'failed_step': 'primary'},
        'attempts': [{'number': 1, 'error': 'ModelServerError', 'status_code': 500}],
        'output': 'please try again later',
    }


async def test_default_can_be_made_from_the_input():
    result = await default(failing(rate_limited), lambda message: f'queued: {message}').run('hi')
    assert result.output == 'queued: hi'


async def test_default_does_not_hide_a_rejected_request_unless_asked():
    with pytest.raises(ProviderAuthError):
        await default(failing(unauthorized), 'hidden').run('hi')
    result = await default(failing(unauthorized), 'shown', on=ProviderAuthError).run('hi')
    assert (result.output, result.steps[0].fallback_reason) == ('shown', 'auth')


async def test_default_of_all_models_failing():
    result = await default(fallback(failing(quota), failing(server_error, name='second')), 'sorry').run('hi')
    assert (result.output, result.steps[0].fallback_reason) == ('sorry', 'all_models_failed')


async def test_default_checks_its_type():
    step = city_agent(ScriptedModel(default=PARIS), 'city')
    with pytest.raises(ConfigurationError, match='value_or_fn is a str but the step outputs City'):
        default(step, 'not a city')
    broken = city_agent(ScriptedModel(default={'name': 'x'}), 'city')
    with pytest.raises(StepOutputError):
        await default(broken, lambda _: 'not a city').run('?')


def test_fallback_configuration_errors_name_the_argument():
    with pytest.raises(ConfigurationError, match='alternates'):
        fallback(backup)
    with pytest.raises(ConfigurationError, match='on='):
        fallback(backup, backup, on=[int])  # type: ignore[list-item]
