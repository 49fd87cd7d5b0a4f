"""Hedging against a provider with lognormal latency (p99 about 10x p50): tail latency and the extra calls it costs.

    python bench/hedge.py [--runs 4000] [--median-ms 40] [--concurrency 20] [--seed 1]

The model answers every request after a delay drawn from a lognormal distribution with sigma 0.99, so its p99 is
about ten times its median. It is a `FunctionModel` that sleeps, so client overhead (an HTTP client costs a few ms a
request) does not blur the distribution; bench/soak.py covers the HTTP path. The same agent step runs `--runs` times
plain, then wrapped in `hedge(step, after=...)` with `after` set to the p90 latency measured in the plain pass (what
an operator would read off a dashboard), which holds extra calls near 10%. A cancelled loser counts as a call. The
last line of stdout is JSON with `p50_ms, p99_ms, hedged_p50_ms, hedged_p99_ms, extra_calls_pct`, the best p99 a
single hedge can reach for a 10% extra-call budget on this distribution (`optimal_hedged_p99_ms`, computed
numerically below), and how far the measured one is from it (`vs_optimal_pct`, target within 10%).

The optimum: a single hedge after `a` costs `S(a)` extra calls (`S` the survival function of one call's latency)
and answers later than `t` with probability `S(t) * S(t - a)` for `t > a`. Both fall as `a` falls, so the best hedge
for a budget `b` starts at `a = S^-1(b)`, the (1 - b) quantile, and its p99 solves `S(t) * S(t - a) = 0.01`.

With independent legs, a hedge cannot bring p99 under `after`: the 10% of requests slower than `after` are all still
running then. Holding extra calls to 10% means `after` >= p90 (about 3.6x p50 here), so hedged p99 is at least 3.6x
hedged p50, and about 5.6x at `after` = p90 (`P(first > t) * P(second > t - after) = 1%`). A target of hedged
p99 <= 2x p50 needs `after` under 2x p50, which hedges about a quarter of all requests.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from typing import Any

SIGMA = 0.99  # exp(2.326 * 0.99) = 10: p99 is ten times the median
EXTRA_CALL_BUDGET = 0.10


class LognormalModel:
    """A model function that answers 'ok' after a seeded lognormal delay, and counts the calls it starts."""

    def __init__(self, median_s: float, seed: int) -> None:
        self.mu = math.log(median_s)
        self.random = random.Random(seed)
        self.calls = 0

    async def __call__(self, messages: list[Any], info: Any) -> Any:
        import anyio
        from pydantic_ai.messages import ModelResponse, TextPart

        self.calls += 1
        await anyio.sleep(self.random.lognormvariate(self.mu, SIGMA))
        return ModelResponse(parts=[TextPart('ok')])


async def measure(step: Any, runs: int, concurrency: int) -> list[float]:
    """Latency in ms of each of `runs` runs of `step`, `concurrency` at a time."""
    import anyio

    latencies: list[float] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(i: int) -> None:
        async with limiter:
            started = time.perf_counter()
            await step.run(f'question {i}', timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)

    async with anyio.create_task_group() as group:
        for i in range(runs):
            group.start_soon(one, i)
    return latencies


def survival(t: float, median: float) -> float:
    """P(one call takes longer than `t`) for the benchmark's lognormal latency."""
    if t <= 0:
        return 1.0
    return 0.5 * math.erfc((math.log(t) - math.log(median)) / (SIGMA * math.sqrt(2)))


def bisect(f: Any, lo: float, hi: float) -> float:
    """The root of the decreasing function `f` in [lo, hi], to a micro-unit."""
    while hi - lo > 1e-6 * max(1.0, hi):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


def optimal_hedged_p99(median: float, budget: float) -> float:
    """The lowest p99 any single hedge reaches with at most `budget` extra calls per request (see the docstring)."""
    after = bisect(lambda t: survival(t, median) - budget, 0.0, median * 1e3)
    return bisect(lambda t: survival(t, median) * survival(t - after, median) - 0.01, after, median * 1e3)


def quantile(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100)[q - 1], 1)


async def bench(runs: int, median_ms: float, concurrency: int, seed: int) -> dict[str, float]:
    from pydantic_ai import Agent
    from pydantic_ai.models.function import FunctionModel

    import podium
    from podium.fallbacks import hedge

    model = LognormalModel(median_ms / 1000, seed)
    step = podium.agent(Agent(FunctionModel(model), name='ask'))
    await measure(step, 20, concurrency)  # warm up imports and caches
    model.calls = 0
    plain = await measure(step, runs, concurrency)
    after = quantile(plain, 90) / 1000
    model.calls = 0
    hedged = await measure(hedge(step, after=after), runs, concurrency)
    print(f'hedged after {after * 1000:.1f} ms (the plain p90): {model.calls} calls for {runs} runs')
    hedged_p99 = quantile(hedged, 99)
    optimum = round(optimal_hedged_p99(median_ms, EXTRA_CALL_BUDGET), 1)
    return {
        'p50_ms': quantile(plain, 50),
        'p99_ms': quantile(plain, 99),
        'hedged_p50_ms': quantile(hedged, 50),
        'hedged_p99_ms': hedged_p99,
        'extra_calls_pct': round(100 * (model.calls - runs) / runs, 1),
        'optimal_hedged_p99_ms': optimum,
        'vs_optimal_pct': round(100 * (hedged_p99 - optimum) / optimum, 1),
    }


def main(argv: list[str] | None = None) -> None:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--runs', type=int, default=4000)
    parser.add_argument('--median-ms', type=float, default=40.0)
    parser.add_argument('--concurrency', type=int, default=20)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    result = anyio.run(bench, args.runs, args.median_ms, args.concurrency, args.seed)
    print(
        f'plain p99/p50 = {result["p99_ms"] / result["p50_ms"]:.1f}, '
        f'hedged p99/p50 = {result["hedged_p99_ms"] / result["hedged_p50_ms"]:.1f}, '
        f'extra calls {result["extra_calls_pct"]}%; the best single hedge for 10% extra calls reaches p99 '
        f'{result["optimal_hedged_p99_ms"]} ms, measured {result["vs_optimal_pct"]:+}% from it'
    )
    print(json.dumps(result))


if __name__ == '__main__':
    main()
