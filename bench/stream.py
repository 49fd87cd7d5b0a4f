"""What streaming a run costs: W1 (router + 3-step chain, lean path) streamed against the same runs with `run()`.

    python bench/stream.py [--n 2000] [--serve]

`stream_vs_run_cpu`: CPU per streamed run (every event read: steps, Pydantic-AI's events, output deltas) over CPU
per `run()`, both on the same workflow and fake models, which answer at once, so the CPU is podium's and
Pydantic-AI's alone. The fake models stream each answer in a few chunks, as providers do.
`time_to_first_event_ms`: from `workflow.stream(...)` to the first event in the consumer's hands (the median).
`serve_rps`: runs per second served over HTTP by `podium serve` (`--serve`); null until that part is filled in.

The two modes alternate in blocks, so neither always runs on a warmer or busier machine. The last line of stdout
is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from pydantic_ai.usage import RequestUsage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import podium
from bench._w1.podium_default import build_workflow
from bench._w1.workload import (
    FAKE_USAGE,
    INPUTS,
    ROUTER_INSTRUCTIONS,
    ROUTES,
    STEP_TYPES,
    Answer,
    RouteDecision,
    check,
    router_json,
    step_answer,
    step_instructions,
)
from podium.events import StepFinished

CHUNKS = 4
"""Pieces each fake answer streams in."""


def fake_model(answer: Callable[[str], str]) -> FunctionModel:
    """W1's fake model (one call of the output tool with the fixed JSON), answering streamed requests too."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        args = answer(str(messages[-1].parts[-1].content))
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)], usage=RequestUsage(**FAKE_USAGE))

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[DeltaToolCalls]:
        args = answer(str(messages[-1].parts[-1].content))
        size = -(-len(args) // CHUNKS)
        for i in range(0, len(args), size):
            yield {0: DeltaToolCall(name=info.output_tools[0].name if i == 0 else None, json_args=args[i : i + size])}

    return FunctionModel(respond, stream_function=stream)


def make_workflow() -> podium.Step[str, Answer]:
    router = Agent(fake_model(router_json), output_type=RouteDecision, instructions=ROUTER_INSTRUCTIONS, name='router')
    chains = {
        route: [
            Agent(
                fake_model(step_answer(route, i + 1)),
                output_type=output_type,
                instructions=step_instructions(route, i + 1),
                name=f'{route}_step{i + 1}',
            )
            for i, output_type in enumerate(STEP_TYPES)
        ]
        for route in ROUTES
    }
    return build_workflow(router, chains)  # type: ignore[arg-type]


async def run_once(workflow: podium.Step[str, Answer], text: str) -> Answer:
    return (await workflow.run(text)).output


async def stream_once(workflow: podium.Step[str, Answer], text: str) -> Answer:
    async with workflow.stream(text) as events:
        async for _ in events:
            pass
    return events.result.output


async def cpu_per_run(
    one: Callable[[podium.Step[str, Answer], str], Any], workflow: podium.Step[str, Answer], n: int
) -> float:
    gc.collect()
    start = time.process_time()
    for i in range(n):
        await one(workflow, INPUTS[i % len(INPUTS)])
    return (time.process_time() - start) / n


async def first_event_ms(workflow: podium.Step[str, Answer], n: int) -> float:
    samples: list[float] = []
    for i in range(n):
        start = time.perf_counter()
        async with workflow.stream(INPUTS[i % len(INPUTS)]) as events:
            async for _ in events:
                samples.append(time.perf_counter() - start)
                break
    return statistics.median(samples) * 1000


async def measure(n: int, blocks: int) -> dict[str, Any]:
    workflow = make_workflow()
    for text in INPUTS * 5:  # the lean plans are captured, imports and caches warm
        check(text, await run_once(workflow, text))
        check(text, await stream_once(workflow, text))
    async with workflow.stream(INPUTS[0]) as events:
        finished = [e async for e in events if isinstance(e, StepFinished)]
    paths = {e.record.path for e in finished if e.record.kind in ('agent', 'router')}
    if paths != {'lean'}:
        raise RuntimeError(f'expected every agent on the lean path while streaming, got {sorted(map(str, paths))}')
    run_cpu: list[float] = []
    stream_cpu: list[float] = []
    for _ in range(blocks):
        run_cpu.append(await cpu_per_run(run_once, workflow, n // blocks))
        stream_cpu.append(await cpu_per_run(stream_once, workflow, n // blocks))
    run_ms, stream_ms = statistics.median(run_cpu) * 1000, statistics.median(stream_cpu) * 1000
    return {
        'n': n,
        'run_cpu_ms_per_run': round(run_ms, 3),
        'stream_cpu_ms_per_run': round(stream_ms, 3),
        'stream_vs_run_cpu': round(stream_ms / run_ms, 3),
        'time_to_first_event_ms': round(await first_event_ms(workflow, min(n, 1000)), 4),
    }


async def measure_serve() -> float | None:
    """Runs per second that `podium serve` answers over HTTP, streaming each run's events.

    Not measured yet: the HTTP server fills this part in.
    """
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=2000, help='runs per mode')
    parser.add_argument('--blocks', type=int, default=10, help='alternating blocks the runs of each mode are split in')
    parser.add_argument('--serve', action='store_true', help='also measure `podium serve` (serve_rps)')
    args = parser.parse_args()

    async def both() -> dict[str, Any]:
        result = await measure(args.n, args.blocks)
        result['serve_rps'] = await measure_serve() if args.serve else None
        return result

    result = anyio.run(both)
    streamed, plain = result['stream_cpu_ms_per_run'], result['run_cpu_ms_per_run']
    print(
        f'streamed W1: {streamed} ms CPU per run vs {plain} ms with run() ({result["stream_vs_run_cpu"]}x); '
        f'first event after {result["time_to_first_event_ms"]} ms'
    )
    print(json.dumps(result))


if __name__ == '__main__':
    main()
