"""A small support desk whose every agent answers from a truth table, with faults injected per case and step.

Each message carries a marker `[c<n>]`; every scripted model looks the case up by it and answers what the truth
says, unless the case's fault names that model's step, in which case it answers something plausible but wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from pydantic import BaseModel
from pydantic_ai import Agent

import podium
from podium import Chain, Route, RouteDecision, Router, Step, branch
from podium.testing import ScriptedModel

RouteName = Literal['billing', 'tech', 'sales', 'other']
ModelT = TypeVar('ModelT', bound=BaseModel)


class Facts(BaseModel):
    urgency: Literal['high', 'normal']
    summary: str


class Triage(BaseModel):
    severity: Literal['blocker', 'minor']
    summary: str


class Lead(BaseModel):
    intent: Literal['buy', 'inquire']
    summary: str


class Reply(BaseModel):
    team: str
    escalated: bool


@dataclass(frozen=True)
class Truth:
    """What a case is: its route and the one decision its specialist makes (urgency, severity or intent)."""

    route: RouteName
    flag: bool = False
    """High urgency, a blocker, or intent to buy."""

    @property
    def reply_step(self) -> str | None:
        """The step that writes the final reply when every step answers right."""
        return {
            'billing': 'billing_escalate' if self.flag else 'billing_resolve',
            'tech': 'tech_escalate' if self.flag else 'tech_fix',
            'sales': 'sales_quote' if self.flag else 'sales_inform',
            'other': None,
        }[self.route]

    @property
    def escalated(self) -> bool:
        return self.flag and self.route in ('billing', 'tech')


def marker(case: int) -> str:
    return f'[c{case}]'


def _case_of(prompt: str) -> int:
    found = re.search(r'\[c(\d+)\]', prompt)
    assert found is not None, f'no case marker in {prompt!r}'
    return int(found.group(1))


def build_desk(
    truths: Mapping[int, Truth], faults: Mapping[int, str] | None = None, crashes: Mapping[int, str] | None = None
) -> Step[str, Reply]:
    """The desk; `faults` maps a case to the step that answers it wrongly, `crashes` to the step whose model raises."""
    faults = faults or {}
    crashes = crashes or {}

    def wrong(case: int, step: str) -> bool:
        if crashes.get(case) == step:
            raise RuntimeError(f'the model of {step} is down')
        return faults.get(case) == step

    def route(prompt: str) -> RouteDecision[str]:
        case = _case_of(prompt)
        chosen = truths[case].route
        if wrong(case, 'desk'):
            chosen = {'billing': 'tech', 'tech': 'sales', 'sales': 'other', 'other': 'billing'}[chosen]
        return RouteDecision(route=chosen, confidence=0.9)

    def flag(step: str, prompt: str) -> bool:
        case = _case_of(prompt)
        return truths[case].flag != wrong(case, step)

    def reply(step: str, team: str, escalated: bool, input_type: type[ModelT]) -> Step[ModelT, Reply]:
        def answer(prompt: str) -> Reply:
            return Reply(team=team, escalated=escalated != wrong(_case_of(prompt), step))

        agent = Agent(ScriptedModel(default=answer, model_name=f'model-{step}'), output_type=Reply, name=step)
        return podium.agent(agent, input_type=input_type)

    def specialist(step: str, output_type: type[ModelT], field: str, values: tuple[str, str]) -> Step[str, ModelT]:
        def answer(prompt: str) -> ModelT:
            value = values[0] if flag(step, prompt) else values[1]
            return output_type.model_validate({field: value, 'summary': prompt})

        model = ScriptedModel(default=answer, model_name=f'model-{step}')
        return podium.agent(Agent(model, output_type=output_type, name=step))

    billing = Chain[str, Reply](
        [
            specialist('billing_extract', Facts, 'urgency', ('high', 'normal')),
            branch(
                lambda facts: facts.urgency,
                {
                    'high': reply('billing_escalate', 'billing', True, Facts),
                    'normal': reply('billing_resolve', 'billing', False, Facts),
                },
                name='billing_urgency',
            ),
        ],
        name='billing',
    )
    tech = Chain[str, Reply](
        [
            specialist('tech_triage', Triage, 'severity', ('blocker', 'minor')),
            branch(
                lambda triage: triage.severity,
                {
                    'blocker': reply('tech_escalate', 'tech', True, Triage),
                    'minor': reply('tech_fix', 'tech', False, Triage),
                },
                name='tech_severity',
            ),
        ],
        name='tech',
    )
    sales = Chain[str, Reply](
        [
            specialist('sales_qualify', Lead, 'intent', ('buy', 'inquire')),
            branch(
                lambda lead: lead.intent,
                {
                    'buy': reply('sales_quote', 'sales', False, Lead),
                    'inquire': reply('sales_inform', 'sales', False, Lead),
                },
                name='sales_intent',
            ),
        ],
        name='sales',
    )

    @podium.step
    def other(message: str) -> Reply:
        return Reply(team='front_desk', escalated=False)

    return Router(
        {
            'billing': Route(billing, 'Invoices and payments.'),
            'tech': Route(tech, 'Bugs and outages.'),
            'sales': Route(sales, 'Buying.'),
            'other': Route(other, 'Anything else.'),
        },
        fallback='other',
        model=ScriptedModel(default=route, model_name='model-desk'),
        name='desk',
    )
