"""`guard`: a step that passes a value on, replaces it, stops it or sends it to a safe response; and bad input."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

import podium
from podium import GuardFailed, GuardTripped, GuardVerdict, guard
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio

echo = podium.step(lambda text: text, name='echo')


def no_refunds(text: str) -> GuardVerdict:
    return GuardVerdict.block('mentions a refund') if 'refund' in text else GuardVerdict.allow('fine')


async def test_a_guard_in_a_chain_passes_what_it_allows_and_records_why():
    result = await (guard(no_refunds) >> echo).run('hello')

    assert result.output == 'hello'
    assert result.record('no_refunds').summary() == {
        'name': 'no_refunds',
        'kind': 'guard',
        'status': 'ok',
        'route': 'pass',
        'reason': 'fine',
        'detail': {'on': 'input', 'tripped': False},
        'output': 'hello',
    }


async def test_a_tripped_guard_ends_the_run_typed_and_no_later_step_runs():
    ran: list[str] = []
    later = podium.step(lambda text: ran.append(text) or text, name='later')

    with pytest.raises(GuardTripped) as caught:
        await (guard(no_refunds) >> later).run('refund me')

    error = caught.value
    assert isinstance(error, podium.WorkflowError)
    assert not isinstance(error, GuardFailed)
    assert (error.guard, error.on, error.verdict, ran) == (
        'no_refunds',
        'input',
        GuardVerdict.block('mentions a refund'),
        [],
    )
    assert str(error) == "guard 'no_refunds' stopped the input: mentions a refund"
    (record,) = error.records
    assert (record.status, record.route, record.reason, dict(record.detail)) == (
        'failed',
        'block',
        'mentions a refund',
        {'on': 'input', 'tripped': True},
    )
    assert podium.guards.tripped_guards(error) == ('no_refunds',)


async def test_an_async_check_and_a_replacement_go_on_in_place_of_the_value():
    async def mask(text: str) -> GuardVerdict:
        return GuardVerdict.allow('masked', replacement=text.replace('1234', '****'))

    result = await (guard(mask) >> echo).run('card 1234')

    assert result.output == 'card ****'
    assert (result.record('mask').route, result.record('mask').detail['tripped']) == ('redact', True)


async def test_a_safe_response_answers_for_a_stopped_value_and_the_run_degrades():
    apologise = podium.step(lambda text: 'We cannot discuss refunds here.', name='apologise')

    result = await (guard(no_refunds, safe_response=apologise) >> echo).run('refund me')

    assert (result.output, result.status) == ('We cannot discuss refunds here.', 'degraded')
    record = result.record('no_refunds')
    assert (record.status, record.route, record.fallback_reason) == (
        'degraded',
        'safe_response',
        "guard 'no_refunds' stopped the input: mentions a refund",
    )
    assert [r.name for r in result.steps] == ['no_refunds', 'apologise', 'echo']


class Reply(BaseModel):
    text: str
    refund: float = 0


async def test_an_output_guard_replacement_of_a_model_is_validated_into_its_type():
    def cap(reply: Reply) -> GuardVerdict:
        return GuardVerdict.allow('capped', replacement={'text': reply.text, 'refund': min(reply.refund, 50)})

    answer = podium.step(lambda text: Reply(text=text, refund=80), name='answer')
    result = await (answer >> guard(cap, on='output')).run('hi')

    assert result.output == Reply(text='hi', refund=50)


async def test_a_pydantic_ai_agent_decides_with_a_typed_verdict_as_a_child_step():
    model = ScriptedModel({'attack': GuardVerdict.block('an attack')}, default=GuardVerdict.allow('ok'))
    judge = guard(Agent(model, output_type=GuardVerdict, name='judge'), name='judged')

    assert (await (judge >> echo).run('hello')).output == 'hello'
    with pytest.raises(GuardTripped, match='an attack') as caught:
        await (judge >> echo).run('an attack')

    assert [r.name for r in caught.value.records] == ['judged', 'judge']
    info = judge.describe()
    assert (info.kind, [(label, c.name) for label, c in info.children], info.guards) == (
        'wrapper',
        [('check', 'judge')],
        'input',
    )
    assert guard(no_refunds).describe().kind == 'call'


# ---------------------------------------------------------------- bad input


def broken(text: str) -> GuardVerdict:
    raise ConnectionError('moderation service down')


async def test_a_guard_whose_check_raises_fails_closed_typed_and_recorded():
    with pytest.raises(GuardFailed) as caught:
        await (guard(broken) >> echo).run('hello')

    error = caught.value
    assert isinstance(error, GuardTripped)
    assert isinstance(error.__cause__, ConnectionError)
    assert str(error) == (
        "guard 'broken' could not check the input: ConnectionError: moderation service down; the input is not let "
        'through (pass fail_open=True to let it through when the check fails)'
    )
    (record,) = error.records
    assert (record.route, record.detail['tripped'], record.detail['error']) == (
        'block',
        True,
        'ConnectionError: moderation service down',
    )


async def test_fail_open_lets_the_value_through_with_the_failure_recorded():
    result = await (guard(broken, fail_open=True) >> echo).run('hello')

    assert (result.output, result.status) == ('hello', 'ok')
    record = result.record('broken')
    assert (record.route, record.detail['tripped'], record.reason) == (
        'fail_open',
        False,
        'the check failed and the guard fails open: ConnectionError: moderation service down',
    )


async def test_a_failing_agent_check_is_a_failed_guard_too():
    model = TestModel(custom_output_args={'unexpected': 1})
    judge = guard(Agent(model, output_type=GuardVerdict, name='judge', retries=0), name='judged')

    with pytest.raises(GuardFailed, match="guard 'judged' could not check the input"):
        await judge.run('hello')


async def test_a_verdict_of_the_wrong_type_is_a_step_output_error_naming_the_guard():
    def says_yes(text: str) -> bool:
        return True

    bad = guard(says_yes)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]  # the point of the test
    with pytest.raises(podium.StepOutputError) as caught:
        await (bad >> echo).run('hello')

    assert caught.value.step == 'says_yes'
    assert str(caught.value) == (
        "guard 'says_yes' must decide with a GuardVerdict, its check returned bool: return GuardVerdict.allow(...) "
        'or GuardVerdict.block(reason)'
    )


async def test_a_replacement_of_another_type_is_a_step_output_error_naming_the_guard():
    def to_number(text: str) -> GuardVerdict:
        return GuardVerdict.allow(replacement=42)

    with pytest.raises(podium.StepOutputError, match=re.escape("guard 'to_number' replaced a str with a int")):
        await guard(to_number).run('hello')


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        ({'check': no_refunds, 'on': 'both'}, "a guard checks on='input' or on='output', got on='both'"),
        ({'check': 42}, 'a guard checks with a function, a podium step or a Pydantic-AI agent'),
        ({'check': no_refunds, 'safe_response': print}, 'safe_response must be a podium step'),
        ({'check': no_refunds, 'name': ' '}, 'a step name must not be empty'),
        (
            {'check': Agent(TestModel(), output_type=str, name='chatty')},
            "a guard decides with a GuardVerdict, but 'chatty' outputs str: give its agent output_type=GuardVerdict",
        ),
    ],
)
def test_bad_arguments_to_guard_are_configuration_errors_that_say_what_to_do(kwargs: dict[str, object], message: str):
    with pytest.raises(podium.ConfigurationError, match=re.escape(message)):
        guard(**kwargs)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
