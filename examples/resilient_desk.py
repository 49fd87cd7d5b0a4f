"""The support desk, made resilient, against a local provider that fails on purpose.

Every agent of the support desk (examples/support_desk.py) runs on `FallbackModel(RetryingModel(gpt-4o),
RetryingModel(gpt-4o-mini))`: one retry loop per request with jittered backoff and `Retry-After`, a circuit breaker
per model and a retry budget shared by both. The whole desk sits in a `default` that hands the customer to a person
when nothing works, and marks the run degraded. The provider is podium's `FaultServer`, a real OpenAI-protocol
server on 127.0.0.1: it answers like the desk's demo models and injects faults on purpose (rate limits, 500s,
overload, reset connections, stalls, invalid output), with an outage of gpt-4o in the middle of the session and a
short one of both models inside it, so you can watch retries, fallbacks, the breakers opening and closing, and the
degraded default live. Messages arrive every `--every` seconds, as customers would. No network.

    python examples/resilient_desk.py
    python examples/resilient_desk.py --runs 40 --fault-rate 0.5 --seed 3
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from openai import AsyncOpenAI
from pydantic import BaseModel
from pydantic_ai.models.fallback import FallbackModel

from podium import Attempt, Step, WorkflowError
from podium.fallbacks import Backoff, CircuitBreaker, RetryBudget, RetryingModel, collect_attempts, default
from podium.testing import Behaviour, Fault, FaultServer, ScriptedModel
from podium.testing import Reply as Completion

sys.path.insert(0, str(Path(__file__).parent))
from support_desk import Reply, build_desk, demo_models

PRIMARY, BACKUP = 'gpt-4o', 'gpt-4o-mini'
MESSAGES = (
    'my invoice shows a double charge of $40',
    'the app crashes on startup',
    'we want to buy 20 more seats',
    'how do I read my invoice?',
    'the login page is slow today',
    'what plans do you have?',
    'can you recommend a good book?',
)
AGENTS = {
    # The server plays the provider for every agent of the desk, and knows each by its instructions.
    'You route customer messages': 'router',
    'Extract the billing facts': 'billing_extract',
    'Tell the customer a specialist takes over': 'billing_escalate',
    'Resolve the billing question yourself': 'billing_resolve',
    'Triage the technical problem': 'tech_triage',
    'Escalate to on-call engineering': 'tech_escalate',
    'Give concise troubleshooting steps': 'tech_troubleshoot',
    'Qualify the sales lead': 'sales_qualify',
    'Write a short quote': 'sales_quote',
    'Answer the product question briefly': 'sales_inform',
}
FAULTS: tuple[tuple[str, Callable[[], Behaviour]], ...] = (
    ('429', lambda: Fault.rate_limit(retry_after=None, retry_after_ms=50)),
    ('500', Fault.server_error),
    ('529', Fault.overloaded),
    ('reset', Fault.reset_mid_body),
    ('stall', lambda: Fault.stall(5)),
    ('invalid output', Fault.malformed_json),
)


class Provider:
    """Answers like the desk's demo models, except when a fault is due: at random, or to a model that is down."""

    def __init__(self, fault_rate: float, seed: int) -> None:
        self.fault_rate = fault_rate
        self.random = random.Random(seed)
        self.down: frozenset[str] = frozenset()
        """The models in an outage: every request to them gets a 503."""
        self.injected: Counter[str] = Counter()
        self.demo = {name: model for name, model in demo_models().items() if isinstance(model, ScriptedModel)}

    def respond(self, body: Any) -> Behaviour:
        if body['model'] in self.down:
            self.injected['outage 503'] += 1
            return Fault.unavailable()
        if self.random.random() < self.fault_rate:
            label, fault = self.random.choice(FAULTS)
            self.injected[label] += 1
            return fault()
        return self.answer(body)

    def answer(self, body: Any) -> Behaviour:
        system = ' '.join(str(m.get('content')) for m in body['messages'] if m['role'] in ('system', 'developer'))
        name = next((agent for marker, agent in AGENTS.items() if marker in system), None)
        if name is None:
            return Completion.text('no demo answer for this request')
        answer = self.demo[name].default
        prompt = next((str(m['content']) for m in reversed(body['messages']) if m['role'] == 'user'), '')
        value = answer(prompt) if callable(answer) else answer
        assert isinstance(value, BaseModel)
        return Completion.tool_call(body['tools'][0]['function']['name'], value.model_dump(mode='json'))


def handoff(message: str) -> Reply:
    return Reply(
        team='front_desk', text='Sorry, we are having trouble: a person will answer you by email.', escalated=True
    )


@dataclass
class Session:
    """The resilient desk on one FaultServer, and what happened to each run."""

    server: FaultServer
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict[str, CircuitBreaker])
    clients: list[AsyncOpenAI] = field(default_factory=list[AsyncOpenAI])
    outcomes: Counter[str] = field(default_factory=Counter[str])
    attempts: int = 0

    def desk(self) -> Step[str, Reply]:
        budget = RetryBudget(ratio=0.2, per_second=2, capacity=10)
        models: list[RetryingModel] = []
        for name in (PRIMARY, BACKUP):
            model = self.server.openai_model(name)  # its SDK retries are off: RetryingModel owns the only loop
            self.clients.append(model.client)
            self.breakers[name] = CircuitBreaker(name=name, failure_threshold=3, reset_after=0.2, trial_timeout=0.5)
            models.append(
                RetryingModel(
                    model,
                    attempts=3,
                    backoff=Backoff(base=0.05, cap=0.5),
                    attempt_timeout=0.3,
                    deadline=3.0,
                    breaker=self.breakers[name],
                    budget=budget,
                )
            )
        return default(build_desk(FallbackModel(*models)), handoff, name='resilient_desk')

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


def outages(run: int, runs: int) -> frozenset[str]:
    """Which models are down for run number `run`."""
    if runs // 2 <= run < runs // 2 + 2:
        return frozenset({PRIMARY, BACKUP})
    if runs // 3 <= run < 2 * runs // 3:
        return frozenset({PRIMARY})
    return frozenset()


def describe(attempts: Sequence[Attempt]) -> str:
    """`gpt-4o 500, 500 > ok`: the requests of a run, grouped by model."""
    parts: list[str] = []
    for attempt in attempts:
        label = 'ok' if attempt.error is None else str(attempt.status_code or short(attempt.error))
        if parts and parts[-1].startswith(f'{attempt.model} '):
            parts[-1] += f', {label}'
        else:
            parts.append(f'{attempt.model} {label}')
    return ' > '.join(parts)


def short(error: str) -> str:
    return error.removeprefix('Model').removesuffix('Error')


async def run_session(
    runs: int, fault_rate: float, seed: int, every: float = 0.05, out: Callable[[str], None] = print
) -> Session:
    """Run `runs` messages through the resilient desk: gpt-4o is down in the middle third, both models for two runs."""
    provider = Provider(fault_rate, seed)
    with FaultServer(default=provider.respond) as server:
        session = Session(server)
        desk = session.desk()
        try:
            for i in range(runs):
                await anyio.sleep(every)
                provider.down = outages(i, runs)
                message = MESSAGES[i % len(MESSAGES)]
                with collect_attempts() as attempts:
                    try:
                        result = await desk.run(message, timeout=10)
                        status: str = result.status
                        route = result.record('support_desk').route
                        session.outcomes[status] += 1
                    except WorkflowError as exc:
                        status, route = f'failed: {type(exc).__name__}', None
                        session.outcomes['failed'] += 1
                session.attempts += len(attempts)
                breaker = f'{PRIMARY}: {session.breakers[PRIMARY].state}'
                down = ','.join(sorted(provider.down)) or '-'
                out(f'{i + 1:>3} {down:<18} {status:<9} {route or "-":<12} {breaker:<17} {describe(attempts)}')
        finally:
            await session.close()
    out(
        f'\n{runs} runs: {session.outcomes["ok"]} ok, {session.outcomes["degraded"]} degraded, '
        f'{session.outcomes["failed"]} failed; {server.hits} requests sent, {session.attempts - server.hits} held back '
        'by an open breaker; faults injected: '
        + ', '.join(f'{kind} x{n}' for kind, n in sorted(provider.injected.items()))
        + f'; {PRIMARY} breaker opened {session.breakers[PRIMARY].opened} time(s)'
    )
    return session


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--runs', type=int, default=24, help='messages to send (default 24)')
    parser.add_argument('--fault-rate', type=float, default=0.3, help='share of requests that fail (default 0.3)')
    parser.add_argument('--seed', type=int, default=1, help='seed of the fault schedule')
    parser.add_argument('--every', type=float, default=0.05, help='seconds between messages (default 0.05)')
    args = parser.parse_args(argv)
    print('  # down               status    route        breaker           requests (model: status or error, in order)')
    anyio.run(run_session, args.runs, args.fault_rate, args.seed, args.every)


if __name__ == '__main__':
    main()
