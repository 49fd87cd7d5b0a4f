from __future__ import annotations

import enum
from typing import Literal

import pytest
from pydantic import BaseModel

import podium
from podium import ConfigurationError, NoRoute, branch

pytestmark = pytest.mark.anyio

Urgency = Literal['low', 'high']


class Ticket(BaseModel):
    urgency: Urgency
    text: str


class Color(enum.Enum):
    RED = 'red'
    BLUE = 'blue'


escalate = podium.step(lambda t: f'escalate {t.text}', name='escalate')
answer = podium.step(lambda t: f'answer {t.text}', name='answer')


def urgency_of(ticket: Ticket) -> Urgency:
    return ticket.urgency


async def test_branch_by_a_literal_field_runs_the_case_step_and_records_the_key():
    flow = branch(urgency_of, {'high': escalate, 'low': answer}, name='by_urgency')

    result = await flow.run(Ticket(urgency='high', text='help'))

    assert result.output == 'escalate help'
    assert [(r.name, r.route) for r in result.steps] == [('by_urgency', 'high'), ('escalate', None)]


def test_a_mapping_missing_a_literal_value_is_rejected_at_build_time():
    with pytest.raises(
        ConfigurationError, match=r"branch 'by_urgency' has no case for \['low'\]: add them, or pass default="
    ):
        branch(urgency_of, {'high': escalate}, name='by_urgency')


def test_keys_can_be_declared_for_lambdas_and_a_default_covers_the_rest():
    with pytest.raises(ConfigurationError, match=r"has no case for \['low'\]"):
        branch(lambda t: t.urgency, {'high': escalate}, keys=Urgency)
    branch(lambda t: t.urgency, {'high': escalate}, keys=Urgency, default=answer)


def test_cases_the_selector_can_never_return_are_rejected():
    with pytest.raises(ConfigurationError, match=r"cases the selector can never return: \['medium'\]"):
        branch(urgency_of, {'high': escalate, 'low': answer, 'medium': answer})  # type: ignore[dict-item]


def test_enum_keys_are_checked_for_exhaustiveness():
    def color(t: Ticket) -> Color:
        return Color.RED

    with pytest.raises(ConfigurationError, match=r"no case for \['blue'\]"):
        branch(color, {Color.RED: answer})


async def test_predicate_branch_with_then_and_otherwise():
    flow = branch(lambda t: t.urgency == 'high', then=escalate, otherwise=answer)

    assert (await flow.run(Ticket(urgency='low', text='x'))).output == 'answer x'
    assert (await flow.run(Ticket(urgency='high', text='y'))).output == 'escalate y'


async def test_an_unmapped_key_at_run_time_is_a_typed_error_naming_the_branch():
    flow = branch(lambda t: t.text, {'a': answer}, name='by_text')

    with pytest.raises(NoRoute, match=r"branch 'by_text' got key 'zzz', which has no case"):
        await flow.run(Ticket(urgency='low', text='zzz'))


async def test_default_takes_unmapped_keys_and_records_them():
    flow = branch(lambda t: t.text, {'a': answer}, default=escalate, name='by_text')

    result = await flow.run(Ticket(urgency='low', text='zzz'))

    assert result.output == 'escalate zzz'
    record = result.record('by_text')
    assert (record.route, record.detail['key']) == ('default', 'zzz')


def test_branch_argument_misuse_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match='needs both then= and otherwise='):
        branch(lambda t: True, then=answer)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
