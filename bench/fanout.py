"""What podium's fan-out costs: wall time of `parallel` and `map_each` minus their slowest branch; then one JSON line.

    python -m bench.fanout [--reps 21]

Each branch is a `podium.step` async function that sleeps 50 ms and times itself. A run's overhead is its wall
time minus the longest branch's own time: the cost of starting, scheduling and joining the branches and of
podium's records. Figures are medians over repetitions, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

import podium

KS = (2, 8, 32)
SLEEP_S = 0.05


def branch(i: int, durations: list[float]) -> podium.Step[int, int]:
    async def sleeper(x: int) -> int:
        start = time.perf_counter()
        await asyncio.sleep(SLEEP_S)
        durations.append(time.perf_counter() - start)
        return x + i

    return podium.step(sleeper, name=f'branch{i}')


async def overhead_ms(workflow: podium.Step[Any, object], input: object, durations: list[float], reps: int) -> float:
    """Median over `reps` runs of the run's wall time minus its slowest branch, in ms."""
    await workflow.run(input)  # warm-up
    overheads: list[float] = []
    for _ in range(reps):
        durations.clear()
        start = time.perf_counter()
        await workflow.run(input)
        overheads.append((time.perf_counter() - start - max(durations)) * 1000)
    return statistics.median(overheads)


async def measure(ks: Sequence[int], reps: int) -> dict[str, dict[int, float]]:
    results: dict[str, dict[int, float]] = {'parallel': {}, 'map_each': {}}
    for k in ks:
        durations: list[float] = []
        fanned = podium.parallel(*(branch(i, durations) for i in range(k)))
        results['parallel'][k] = await overhead_ms(fanned, 0, durations, reps)
        mapped = podium.map_each(branch(0, durations))
        results['map_each'][k] = await overhead_ms(mapped, list(range(k)), durations, reps)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reps', type=int, default=21, help='runs per (combinator, k)')
    args = parser.parse_args()
    results = asyncio.run(measure(KS, args.reps))
    print(f'Fan-out of {SLEEP_S * 1000:.0f} ms steps: wall time minus the slowest branch, median of {args.reps} runs\n')
    print('| k | parallel ms | map_each ms |')
    print('|---:|---:|---:|')
    for k in KS:
        print(f'| {k} | {results["parallel"][k]:.3f} | {results["map_each"][k]:.3f} |')
    print(json.dumps({name: {str(k): round(v, 3) for k, v in by_k.items()} for name, by_k in results.items()}))


if __name__ == '__main__':
    main()
