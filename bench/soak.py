"""Soak: many concurrent runs of a resilient step against a FaultServer that fails at random, seeded.

    python bench/soak.py --runs 10000 --fault-rate 0.05 --concurrency 200 [--seed 1]

The step is `default(fallback(city, city_large), UNKNOWN)`, where `city` is an agent on
`FallbackModel(RetryingModel(primary), RetryingModel(backup))` and `city_large` an agent on a third model; every
model has a breaker, and one retry budget is shared by all. The FaultServer runs in a child process, so its threads
do not compete with the event loop for the GIL, and answers each request with a seeded random fault (rate limits,
5xx, overload, resets, truncated bodies, stalls, quota, context length, invalid or empty output, refusals) or a
valid answer. Every run ends `ok`, `degraded` (the default answered), `failed` (a typed `WorkflowError`),
`unhandled` (any other exception: a bug) or `lost` (never ended: a hang). Progress goes to stderr; the last line of
stdout is JSON with `runs, ok, degraded, failed, unhandled, lost, p50_ms, p99_ms, extra_calls`, where `extra_calls`
counts the requests beyond one per run (retries, fallbacks, re-prompts).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

FAULTS: tuple[tuple[str, str], ...] = (
    ('429', 'rate_limit'),
    ('500', 'server_error'),
    ('503', 'unavailable'),
    ('529', 'overloaded'),
    ('reset', 'reset_mid_body'),
    ('truncated', 'truncated'),
    ('stall', 'stall'),
    ('quota', 'quota'),
    ('context', 'context_length'),
    ('malformed', 'malformed_json'),
    ('schema', 'schema_invalid'),
    ('empty', 'empty'),
    ('content_filter', 'content_filter'),
    ('refusal', 'refusal'),
)
PARIS = {'name': 'Paris', 'population': 2_100_000}
RUN_TIMEOUT = 30.0


class SeededFaults:
    """The server's answer to each request: a seeded random fault at `rate`, else a valid city."""

    def __init__(self, rate: float, seed: int) -> None:
        from podium.testing import Fault

        self.rate = rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()  # the server answers on many threads
        self.injected: Counter[str] = Counter()
        self.builders: dict[str, Callable[[], Any]] = {
            'rate_limit': lambda: Fault.rate_limit(retry_after=None, retry_after_ms=20),
            'stall': lambda: Fault.stall(5),
            'schema_invalid': lambda: Fault.schema_invalid({'name': 'Paris'}),
        }
        for _, name in FAULTS:
            self.builders.setdefault(name, getattr(Fault, name))

    def __call__(self, body: Any) -> Any:
        from podium.testing import Reply

        with self.lock:
            fault = self.random.choice(FAULTS) if self.random.random() < self.rate else None
            if fault is not None:
                self.injected[fault[0]] += 1
        if fault is not None:
            return self.builders[fault[1]]()
        return Reply.tool_call(body['tools'][0]['function']['name'], PARIS)


def serve(rate: float, seed: int, pipe: Connection) -> None:
    """The child process: run a FaultServer until told to stop, then report what it saw."""
    from podium.testing import FaultServer

    faults = SeededFaults(rate, seed)
    with FaultServer(default=faults) as server:
        pipe.send(server.base_url)
        pipe.recv()
        pipe.send({'requests': server.hits, 'injected': dict(faults.injected)})


async def soak(base_url: str, runs: int, concurrency: int) -> dict[str, Any]:
    import anyio
    from openai import AsyncOpenAI
    from pydantic import BaseModel
    from pydantic_ai import Agent
    from pydantic_ai.models.fallback import FallbackModel
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    import podium
    from podium.fallbacks import Backoff, CircuitBreaker, RetryBudget, RetryingModel, default, fallback

    class City(BaseModel):
        name: str
        population: int

    unknown = City(name='unknown', population=0)
    budget = RetryBudget(ratio=0.2, per_second=20, capacity=50)
    clients: list[AsyncOpenAI] = []

    def model(name: str) -> RetryingModel:
        client = AsyncOpenAI(base_url=base_url, api_key='soak', max_retries=0)
        clients.append(client)
        return RetryingModel(
            OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client)),
            attempts=3,
            backoff=Backoff(base=0.05, cap=0.5),
            attempt_timeout=2.0,
            deadline=6.0,
            breaker=CircuitBreaker(name=name, failure_threshold=20, reset_after=1.0),
            budget=budget,
        )

    city = podium.agent(Agent(FallbackModel(model('primary'), model('backup')), output_type=City, name='city'))
    city_large = podium.agent(Agent(model('large'), output_type=City, name='city_large'))
    workflow = default(fallback(city, city_large), unknown)

    outcomes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(i: int) -> None:
        async with limiter:
            started = time.perf_counter()
            try:
                result = await workflow.run(f'Which city is number {i}?', timeout=RUN_TIMEOUT)
                outcomes[result.status] += 1
            except podium.WorkflowError as exc:
                outcomes['failed'] += 1
                errors[type(exc).__name__] += 1
            except Exception as exc:
                outcomes['unhandled'] += 1
                errors[f'unhandled {type(exc).__name__}'] += 1
            latencies.append((time.perf_counter() - started) * 1000)
            done = len(latencies)
            if done % 1000 == 0:
                print(f'{done}/{runs} runs', file=sys.stderr)

    started = time.perf_counter()
    try:
        with anyio.move_on_after(RUN_TIMEOUT * 4):  # a hang shows up as lost runs, not a hung benchmark
            async with anyio.create_task_group() as group:
                for i in range(runs):
                    group.start_soon(one, i)
    finally:
        for client in clients:
            await client.close()
    wall = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        'outcomes': outcomes,
        'errors': errors,
        'p50_ms': round(quantiles[49], 1),
        'p99_ms': round(quantiles[98], 1),
        'wall_s': round(wall, 2),
        'budget': repr(budget),
    }


def main(argv: list[str] | None = None) -> None:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--runs', type=int, default=10_000)
    parser.add_argument('--fault-rate', type=float, default=0.05)
    parser.add_argument('--concurrency', type=int, default=200)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)

    parent, child = multiprocessing.get_context('spawn').Pipe()
    server = multiprocessing.get_context('spawn').Process(target=serve, args=(args.fault_rate, args.seed, child))
    server.start()
    try:
        base_url = parent.recv()
        report = anyio.run(soak, base_url, args.runs, args.concurrency)
        parent.send('stop')
        seen = parent.recv()
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()

    outcomes: Counter[str] = report['outcomes']
    ended = sum(outcomes.values())
    result = {
        'runs': args.runs,
        'ok': outcomes['ok'],
        'degraded': outcomes['degraded'],
        'failed': outcomes['failed'],
        'unhandled': outcomes['unhandled'],
        'lost': args.runs - ended,
        'p50_ms': report['p50_ms'],
        'p99_ms': report['p99_ms'],
        'extra_calls': seen['requests'] - args.runs,
    }
    print(f'faults injected: {sum(seen["injected"].values())} of {seen["requests"]} requests: {seen["injected"]}')
    print(f'errors: {dict(report["errors"])}')
    print(f'wall: {report["wall_s"]} s, {args.runs / report["wall_s"]:.0f} runs/s; {report["budget"]}')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
