"""Checked by pyright and mypy in test_static_types.py: the well-typed lines must infer the revealed types, and
the line marked MISTYPED must be reported."""

from __future__ import annotations

from typing import assert_type

from pydantic import BaseModel
from pydantic_ai import Agent

import podium
from podium import LoopResult, Step


class Facts(BaseModel):
    topic: str


class Plan(BaseModel):
    steps: list[str]


class Answer(BaseModel):
    text: str


facts_agent = Agent('test', output_type=Facts, name='facts')
plan_agent = Agent('test', output_type=Plan, name='plan')
answer_agent = Agent('test', output_type=Answer, name='answer')

facts = podium.agent(facts_agent)
plan = podium.agent(plan_agent, input_type=Facts)
answer = podium.agent(answer_agent, prompt=lambda p: '\n'.join(p.steps), input_type=Plan)

assert_type(facts, podium.AgentStep[str, Facts])
assert_type(plan, podium.AgentStep[Facts, Plan])

pipeline = facts >> plan >> answer
assert_type(pipeline, Step[str, Answer])


@podium.step
def word_count(text: str) -> int:
    return len(text.split())


@podium.step
async def describe(n: int) -> str:
    return f'{n} words'


assert_type(word_count, podium.FunctionStep[str, int])
assert_type(describe, podium.FunctionStep[int, str])
assert_type(word_count >> describe, Step[str, str])

fan = podium.parallel(facts, word_count)
assert_type(fan, Step[str, tuple[Facts, int]])

each = podium.map_each(word_count)
assert_type(each.run_sync(['a b']).output, list[int])


@podium.step
def increment(n: int) -> int:
    return n + 1


assert_type(podium.loop(increment, until=lambda n: n > 3, max_iterations=5), Step[int, LoopResult[int]])

bad = facts >> answer  # MISTYPED: Facts is not Plan
