"""W2's measurement: W1's workload over the wire, against the server of ``bench._w2.server`` in its own process.

A system module defines ``async def build(provider: str, base_url: str) -> RunOne`` and ends with
``if __name__ == '__main__': main(build)``; run it as
``python -m bench._w2.<module> --mode seq|conc --base-url http://127.0.0.1:<port> [--provider openai|anthropic]``.
Its last line of output is one JSON object.

``seq``: sequential runs with no server delay; client CPU per run is this process's rusage (user + system) over
the timed runs, and sockets per 1,000 runs the connections the server accepted meanwhile. ``conc``: ``n`` runs with
at most ``in_flight`` of them in flight and ``delay_ms`` per model call: throughput, latency per run, peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio

from bench._w1.workload import INPUTS, Answer, RunOne, _versions, check

MODEL = {'openai': 'gpt-4o', 'anthropic': 'claude-sonnet-4-5'}


def server_stats(base_url: str, delay_ms: float | None = None) -> dict[str, Any]:
    """The server's counters (on a connection of its own, which it does not count), setting its delay if given."""
    query = '' if delay_ms is None else f'?delay_ms={delay_ms}'
    with urllib.request.urlopen(f'{base_url}/control{query}', timeout=10) as response:
        return json.loads(response.read())


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(samples: Sequence[float], q: float) -> float:
    return samples[min(len(samples) - 1, int(len(samples) * q))]


def _server_delta(before: dict[str, Any], after: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        'sockets_per_1000_runs': (after['connections'] - before['connections']) * 1000 / n,
        'requests_per_run': (after['requests'] - before['requests']) / n,
        'server_cpu_ms_per_run': (after['cpu_s'] - before['cpu_s']) * 1000 / n,
    }


async def measure_seq(run_one: RunOne, base_url: str, n: int, warmup: int) -> dict[str, Any]:
    server_stats(base_url, delay_ms=0)
    for i in range(warmup):
        text = INPUTS[i % len(INPUTS)]
        check(text, await run_one(text))
    gc.collect()
    before = server_stats(base_url)
    samples: list[float] = []
    clock = time.perf_counter
    cpu_start = _cpu()
    for i in range(n):
        text = INPUTS[i % len(INPUTS)]
        start = clock()
        out = await run_one(text)
        samples.append(clock() - start)
        check(text, out)
    cpu = _cpu() - cpu_start
    after = server_stats(base_url)
    samples.sort()
    return {
        'n': n,
        'warmup': warmup,
        'cpu_ms_per_run': cpu * 1000 / n,
        'p50_ms': statistics.median(samples) * 1000,
        'p99_ms': _percentile(samples, 0.99) * 1000,
        **_server_delta(before, after, n),
    }


async def measure_conc(run_one: RunOne, base_url: str, n: int, in_flight: int, delay_ms: float) -> dict[str, Any]:
    for i in range(30):  # warm caches and lazy imports before the clock starts
        text = INPUTS[i % len(INPUTS)]
        check(text, await run_one(text))
    gc.collect()
    outs: list[Answer | None] = [None] * n
    latencies = [0.0] * n
    limiter = anyio.CapacityLimiter(in_flight)
    clock = time.perf_counter

    async def one(i: int) -> None:
        async with limiter:
            start = clock()
            outs[i] = await run_one(INPUTS[i % len(INPUTS)])
            latencies[i] = clock() - start

    before = server_stats(base_url, delay_ms=delay_ms)
    cpu_start = _cpu()
    wall_start = clock()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    wall = clock() - wall_start
    cpu = _cpu() - cpu_start
    after = server_stats(base_url, delay_ms=0)
    for i, out in enumerate(outs):
        check(INPUTS[i % len(INPUTS)], out)
    latencies.sort()
    return {
        'n': n,
        'in_flight': in_flight,
        'delay_ms': delay_ms,
        'wall_ms': wall * 1000,
        'runs_per_s': n / wall,
        'cpu_ms_per_run': cpu * 1000 / n,
        'p50_ms': statistics.median(latencies) * 1000,
        'p99_ms': _percentile(latencies, 0.99) * 1000,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        **_server_delta(before, after, n),
    }


def main(build: Callable[[str, str], Awaitable[RunOne]], *, packages: Sequence[str] = ()) -> None:
    """Command line of a system module: build it once, measure one mode, print one JSON line."""
    parser = argparse.ArgumentParser(description='Measure one system on workload W2.')
    parser.add_argument('--mode', choices=('seq', 'conc'), default='seq')
    parser.add_argument('--base-url', required=True, help='the W2 server, http://127.0.0.1:<port>')
    parser.add_argument('--provider', choices=tuple(MODEL), default='openai')
    parser.add_argument('--n', type=int, default=500, help='timed sequential runs, or concurrent runs')
    parser.add_argument('--warmup', type=int, default=50, help='untimed runs before a seq measurement')
    parser.add_argument('--in-flight', type=int, default=500, help='runs in flight at once in conc mode')
    parser.add_argument('--delay-ms', type=float, default=20.0, help='server delay per model call in conc mode')
    args = parser.parse_args()

    async def run() -> dict[str, Any]:
        run_one = await build(args.provider, args.base_url)
        if args.mode == 'seq':
            return await measure_seq(run_one, args.base_url, args.n, args.warmup)
        return await measure_conc(run_one, args.base_url, args.n, args.in_flight, args.delay_ms)

    result = anyio.run(run)
    system = Path(sys.argv[0]).stem
    out = {'system': system, 'provider': args.provider, 'mode': args.mode, **result}
    print(json.dumps({**out, 'versions': _versions(['httpx2', *packages])}))
