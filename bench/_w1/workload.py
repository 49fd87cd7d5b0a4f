"""Workload W1, "router + 3-step chain", and the harness that measures it.

One input string goes to a router (model call 1) whose typed output picks one of three routes; that route
then runs a 3-step chain (model calls 2-4) in which each step's typed output, serialised as JSON, is part of
the next step's prompt. Every fake model answers fixed JSON text, so every system parses and validates the
same bytes into the same pydantic models: the differences measured are the orchestration layers alone.

The definitions here match the peers' reference harness exactly, so numbers compare across the two.

A system module defines ``async def build() -> RunOne`` and ends with
``if __name__ == '__main__': main(build)``; run it as ``python -m bench._w1.<module> --mode seq|conc --n N``.
Its last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final, Literal

import anyio
from pydantic import BaseModel

# ------------------------------------------------------------------ schema

Route = Literal['billing', 'tech', 'sales']
ROUTES: Final[tuple[Route, ...]] = ('billing', 'tech', 'sales')


class RouteDecision(BaseModel):
    route: Route
    confidence: float


class Facts(BaseModel):
    summary: str
    entities: list[str]


class Plan(BaseModel):
    steps: list[str]
    priority: int


class Answer(BaseModel):
    text: str
    follow_up: bool


# Output type of chain steps 1, 2 and 3.
STEP_TYPES: Final[tuple[type[BaseModel], ...]] = (Facts, Plan, Answer)

# ---------------------------------------------------- fixed model answers

ROUTER_JSON: Final[dict[Route, str]] = {r: f'{{"route": "{r}", "confidence": 0.9}}' for r in ROUTES}

_FACTS_JSON = '{"summary": "customer reports a problem", "entities": ["order-123", "acme", "eu-west"]}'
_PLAN_JSON = '{"steps": ["look up the account", "check recent changes", "draft a reply"], "priority": 2}'


def _answer_json(route: Route) -> str:
    text = f'[{route}] We have looked into it and fixed the issue; sorry for the trouble.'
    return f'{{"text": "{text}", "follow_up": false}}'


# STEP_JSON[route][i] is what the fake model of chain step i + 1 on `route` answers.
STEP_JSON: Final[dict[Route, tuple[str, str, str]]] = {r: (_FACTS_JSON, _PLAN_JSON, _answer_json(r)) for r in ROUTES}

# ---------------------------------------------------------- inputs, router

INPUTS: Final = ('my invoice shows a double charge', 'the app crashes on startup', 'I want to buy 20 more seats')
KEYWORDS: Final[dict[str, Route]] = {'invoice': 'billing', 'crash': 'tech', 'buy': 'sales'}
EXPECTED_ROUTE: Final[dict[str, Route]] = dict(zip(INPUTS, ROUTES, strict=True))
EXPECTED_ANSWER: Final[dict[Route, Answer]] = {r: Answer.model_validate_json(STEP_JSON[r][2]) for r in ROUTES}


def route_for(prompt: str) -> Route:
    """The route the fake router picks: a keyword lookup on the prompt it was actually sent."""
    for keyword, route in KEYWORDS.items():
        if keyword in prompt:
            return route
    return 'tech'


def router_json(prompt: str) -> str:
    """What the fake router model answers to ``prompt``."""
    return ROUTER_JSON[route_for(prompt)]


def step_answer(route: Route, step: int) -> Callable[[str], str]:
    """What the fake model of chain step ``step`` (1-3) on ``route`` answers: the same JSON whatever the prompt."""
    answer = STEP_JSON[route][step - 1]
    return lambda _prompt: answer


# ----------------------------------------------------------------- prompts

ROUTER_INSTRUCTIONS: Final = 'Classify the request into billing, tech or sales.'


def step_instructions(route: str, step: int) -> str:
    """System instructions of chain step ``step`` (1-3)."""
    return f'You are the {route} specialist, chain step {step}.'


def step_prompt(text: str, route: str, step: int, previous: BaseModel) -> str:
    """User prompt of chain step ``step`` (1-3): the original input plus the previous typed output as JSON."""
    return f'[{route}] step {step}\ninput: {text}\nprevious: {previous.model_dump_json()}'


# ------------------------------------------------------ fake model latency

CONC_LATENCY: Final = 0.05  # seconds per model call in `conc` mode
_latency = 0.0  # `seq` mode measures pure overhead: fake models return without yielding


def set_fake_latency(seconds: float) -> None:
    global _latency
    _latency = seconds


async def fake_latency() -> None:
    """Every fake model awaits this before answering; a no-op unless a latency is set."""
    if _latency:
        await asyncio.sleep(_latency)


# Reported by every fake model, so no framework spends time estimating tokens.
FAKE_USAGE: Final = {'input_tokens': 60, 'output_tokens': 25}

# ----------------------------------------------------------------- harness

RunOne = Callable[[str], Awaitable[Answer]]


class WrongAnswerError(Exception):
    """A system returned something other than the expected Answer: its timings would be meaningless."""


def check(text: str, out: object) -> None:
    expected = EXPECTED_ANSWER[EXPECTED_ROUTE[text]]
    if not isinstance(out, Answer) or out != expected:
        raise WrongAnswerError(f'for {text!r} expected {expected!r}, got {out!r}')


async def measure_seq(run_one: RunOne, n: int, warmup: int) -> dict[str, Any]:
    """Sequential runs without latency: the pure per-run overhead of the orchestration layer."""
    for i in range(warmup):
        text = INPUTS[i % len(INPUTS)]
        check(text, await run_one(text))
    gc.collect()
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    # Reading the process CPU clock is a system call (about 5 µs on a VM): what a back-to-back pair reads is taken
    # off each sample, so a sample is the run's own CPU time.
    cpu_clock_cost = statistics.median(-cpu_clock() + cpu_clock() for _ in range(200))
    samples: list[int] = []
    cpu_samples: list[int] = []
    for i in range(n):
        text = INPUTS[i % len(INPUTS)]
        start, cpu_start = clock(), cpu_clock()
        out = await run_one(text)
        cpu_samples.append(cpu_clock() - cpu_start)
        samples.append(clock() - start)
        check(text, out)
    samples.sort()
    return {
        'n': n,
        'warmup': warmup,
        'median_us': statistics.median(samples) / 1000,
        'p99_us': samples[min(n - 1, int(n * 0.99))] / 1000,
        'mean_us': statistics.fmean(samples) / 1000,
        # A sequential run never waits, so its CPU time is its wall time minus what other processes took from it.
        'cpu_median_us': (statistics.median(cpu_samples) - cpu_clock_cost) / 1000,
    }


async def measure_conc(run_one: RunOne, n: int, latency: float) -> dict[str, Any]:
    """``n`` runs started at once, each model call taking ``latency``: throughput, CPU and memory under load."""
    for i in range(30):  # warm caches and lazy imports before the clock starts
        text = INPUTS[i % len(INPUTS)]
        check(text, await run_one(text))
    gc.collect()
    outs: list[Answer | None] = [None] * n

    async def one(i: int) -> None:
        outs[i] = await run_one(INPUTS[i % len(INPUTS)])

    set_fake_latency(latency)
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    set_fake_latency(0.0)
    for i, out in enumerate(outs):
        check(INPUTS[i % len(INPUTS)], out)
    return {
        'n': n,
        'latency_ms': latency * 1000,
        'wall_ms': wall * 1000,
        'runs_per_s': n / wall,
        'cpu_ms_per_run': cpu * 1000 / n,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }


def _versions(packages: Sequence[str]) -> dict[str, str]:
    names = ['pydantic', *packages]
    if 'podium' in sys.modules:  # the project itself, whichever system imported it
        names.append('podium')
    return {name: version(name) for name in names}


def main(build: Callable[[], Awaitable[RunOne]], *, packages: Sequence[str] = ()) -> None:
    """Command line of a system module: build it once, measure one mode, print one JSON line.

    ``packages`` names the distributions whose versions the result reports, besides pydantic.
    """
    parser = argparse.ArgumentParser(description='Measure one system on workload W1.')
    parser.add_argument('--mode', choices=('seq', 'conc'), default='seq')
    parser.add_argument('--n', type=int, default=2000, help='timed sequential runs, or concurrent runs')
    parser.add_argument('--warmup', type=int, default=200, help='untimed runs before a seq measurement')
    parser.add_argument('--latency', type=float, default=CONC_LATENCY, help='seconds per model call in conc mode')
    parser.add_argument(
        '--gc-threshold', type=int, help="set gc's generation-0 threshold in this process (server tuning guidance)"
    )
    args = parser.parse_args()
    if args.gc_threshold is not None:
        gc.set_threshold(args.gc_threshold, *gc.get_threshold()[1:])

    async def run() -> dict[str, Any]:
        run_one = await build()
        if args.mode == 'seq':
            return await measure_seq(run_one, args.n, args.warmup)
        return await measure_conc(run_one, args.n, args.latency)

    result = anyio.run(run)
    system = Path(sys.argv[0]).stem
    print(json.dumps({'system': system, 'mode': args.mode, **result, 'versions': _versions(packages)}))
