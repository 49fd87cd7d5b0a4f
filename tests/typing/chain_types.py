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

# An agent without a `deps_type` takes any deps (`object`), so it joins a workflow whatever deps it runs with.
assert_type(facts, podium.AgentStep[str, Facts, object])
assert_type(plan, podium.AgentStep[Facts, Plan, object])

pipeline = facts >> plan >> answer
assert_type(pipeline, podium.Chain[str, Answer, object])
assert_type(pipeline.named('desk'), podium.Chain[str, Answer, object])
assert_type(pipeline.run_sync('hi').output, Answer)


@podium.step
def word_count(text: str) -> int:
    return len(text.split())


@podium.step
async def describe(n: int) -> str:
    return f'{n} words'


assert_type(word_count, podium.FunctionStep[str, int])
assert_type(describe, podium.FunctionStep[int, str])
assert_type(word_count >> describe, podium.Chain[str, str, None])
assert_type((word_count >> describe).named('count'), podium.Chain[str, str, None])

fan = podium.parallel(facts, word_count)
assert_type(fan, Step[str, tuple[Facts, int]])

each = podium.map_each(word_count)
assert_type(each.run_sync(['a b']).output, list[int])


@podium.step
def increment(n: int) -> int:
    return n + 1


assert_type(podium.loop(increment, until=lambda n: n > 3, max_iterations=5), Step[int, LoopResult[int]])

bad = facts >> answer  # MISTYPED: Facts is not Plan


class Billing:
    account: str = 'acme'


class Shipping:
    carrier: str = 'ups'


billing_agent = Agent('test', deps_type=Billing, output_type=Plan, name='billing')
billing = podium.agent(billing_agent, input_type=Facts)
assert_type(billing, podium.AgentStep[Facts, Plan, Billing])

desk = facts >> billing >> answer  # steps that need no deps join one that needs Billing
assert_type(desk, podium.Chain[str, Answer, Billing])
assert_type(desk.run_sync('hi', deps=Billing()).output, Answer)
desk.run_sync('hi', deps=Shipping())  # MISTYPED: Shipping is not Billing
desk.run_sync('hi')  # MISTYPED: the workflow needs Billing deps


def account(plan: Plan, flow: podium.Flow[Billing]) -> str:
    return flow.deps.account


summarise = podium.step(account)
assert_type(summarise, podium.FunctionStep[Plan, str, Billing])
assert_type(billing >> summarise, podium.Chain[Facts, str, Billing])

shipping_agent = Agent('test', deps_type=Shipping, output_type=Answer, name='shipping')
shipping = podium.agent(shipping_agent, input_type=Plan)
mixed = billing >> shipping  # MISTYPED: Billing deps and Shipping deps in one chain
bare = str.strip >> facts  # MISTYPED: a function is no step; podium.step(str.strip) makes one
