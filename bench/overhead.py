"""What podium itself costs on W1 (router + 3-step chain, fake models, no latency): a table, then one JSON line.

    python -m bench.overhead [--batch 10] [--rounds 60]

Three ways to run the same four agents (``pai_raw``'s) in one process: plain Python calling ``Agent.run`` as
``pai_raw`` does, podium on the agent path (every call through ``Agent.run``), and podium as shipped (lean path).

The figure is CPU time (``time.process_time``): with fake models and no latency a run is pure CPU, and CPU time,
unlike wall time, does not count the time other processes on a busy machine hold the cores. Each round runs a
small batch of each system, in rotating order, so all three see the same conditions; a system's figure is the
median over rounds, and podium's own share is the median over rounds of (agent path / plain Python - 1).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable

from bench._w1.pai_raw import make_agents
from bench._w1.podium_default import build_workflow, checked_runner
from bench._w1.workload import INPUTS, Answer, check, step_prompt

RunOne = Callable[[str], Awaitable[Answer]]
PLAIN, AGENT_PATH, LEAN = 'plain Python, Agent.run', 'podium, agent path', 'podium, lean path'


async def systems() -> dict[str, RunOne]:
    router, chains = make_agents()

    async def plain(text: str) -> Answer:
        decision = (await router.run(text)).output
        out = decision
        for step, agent in enumerate(chains[decision.route], 1):
            out = (await agent.run(step_prompt(text, decision.route, step, out))).output
        return out  # type: ignore[return-value]

    return {
        PLAIN: plain,
        AGENT_PATH: await checked_runner(build_workflow(router, chains, lean=False), 'agent'),
        LEAN: await checked_runner(build_workflow(router, chains), 'lean'),
    }


async def cpu_us(run_one: RunOne, n: int, offset: int) -> float:
    """CPU µs per run over `n` runs, cycling through the inputs from `offset`."""
    start = time.process_time()
    for i in range(offset, offset + n):
        text = INPUTS[i % len(INPUTS)]
        check(text, await run_one(text))
    return (time.process_time() - start) / n * 1e6


async def measure(batch: int, rounds: int) -> tuple[dict[str, float], float]:
    runs = await systems()
    for run_one in runs.values():  # warm-up
        await cpu_us(run_one, 5 * batch, 0)
    gc.collect()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(await cpu_us(runs[name], batch, r))
    share = statistics.median(p / q - 1 for p, q in zip(samples[AGENT_PATH], samples[PLAIN], strict=True))
    return {name: statistics.median(values) for name, values in samples.items()}, share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=10, help='runs per system per round')
    parser.add_argument('--rounds', type=int, default=60)
    args = parser.parse_args()
    us, share = asyncio.run(measure(args.batch, args.rounds))
    plain, agent_path, lean = us[PLAIN], us[AGENT_PATH], us[LEAN]
    print(f'W1 on fake models: CPU µs per run, median of {args.rounds} rounds of {args.batch} runs per system\n')
    print('| system | CPU µs/run | vs plain Python |')
    print('|---|---:|---:|')
    for name, value in us.items():
        print(f'| {name} | {value:,.0f} | {value / plain:.3f} |')
    print(f'\npodium on the agent path adds {share:+.1%} to plain Python (median of per-round ratios)')
    print(f'podium on the lean path: {lean:,.0f} µs per run, {plain / lean:.1f}x less CPU than plain Python')
    print(
        json.dumps(
            {
                'plain_cpu_us': round(plain, 1),
                'podium_agent_path_cpu_us': round(agent_path, 1),
                'podium_lean_cpu_us': round(lean, 1),
                'agent_path_overhead_ratio': round(share, 4),
                'lean_vs_plain': round(lean / plain, 4),
            }
        )
    )


if __name__ == '__main__':
    main()
