"""What streaming a run costs: W1 (router + 3-step chain, lean path) streamed against the same runs with `run()`.

    python bench/stream.py [--n 2000] [--serve]

`stream_vs_run_cpu`: CPU per streamed run (every event read: steps, Pydantic-AI's events, output deltas) over CPU
per `run()`, both on the same workflow and fake models, which answer at once, so the CPU is podium's and
Pydantic-AI's alone. The fake models stream each answer in a few chunks through Pydantic-AI's parts manager, as a
provider's `StreamedResponse` does, and answer a plain request as cheaply: neither mode pays for a worker thread or a
lock the other does not (`FunctionModel` answers a sync function from a thread and streams through a lock per chunk).
`pydantic_ai_stream_vs_run_cpu` is the same ratio for raw Pydantic-AI on the same models (four `Agent.run` calls,
streamed with an `event_stream_handler` that reads every event): the floor that streaming through Pydantic-AI sets.
`stream_vs_pydantic_ai_stream_cpu` compares the two streamed runs.
`time_to_first_event_ms`: from `workflow.stream(...)` to the first event in the consumer's hands (the median).
`serve_rps`: runs per second served over HTTP by `podium serve` (`--serve`, see `bench/serve.py`).

The modes alternate in blocks, so none always runs on a warmer or busier machine. The last line of stdout is one
JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import (
    AgentStreamEvent,
    ModelMessage,
    ModelResponse,
    ModelResponseStreamEvent,
    ToolCallPart,
)
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.settings import ModelSettings
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
    step_prompt,
)
from podium.events import StepFinished

CHUNKS = 4
"""Pieces each fake answer streams in."""

Agents = tuple[Agent[None, RouteDecision], dict[str, list[Agent[None, Any]]]]
"""W1's router agent and, per route, its three chain agents."""


@dataclass
class _ChunkedResponse(StreamedResponse):
    """A streamed call of the output tool, in `CHUNKS` pieces: what a provider's stream turns into."""

    tool_name: str = ''
    args: str = ''
    _timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        size = -(-len(self.args) // CHUNKS)
        for i in range(0, len(self.args), size):
            name = self.tool_name if i == 0 else None
            event = self._parts_manager.handle_tool_call_delta(
                vendor_part_id=0, tool_name=name, args=self.args[i : i + size], tool_call_id=None
            )
            if event is not None:
                yield event
        self._usage = RequestUsage(**FAKE_USAGE)
        self.finish_reason = 'tool_call'

    @property
    def model_name(self) -> str:
        return 'chunked'

    @property
    def provider_name(self) -> None:
        return None

    @property
    def provider_url(self) -> None:
        return None

    @property
    def timestamp(self) -> datetime:
        return self._timestamp


class ChunkedModel(Model):
    """W1's fake model: calls the output tool with `answer(prompt)`, in one response or streamed in chunks."""

    def __init__(self, answer: Callable[[str], str]) -> None:
        super().__init__()
        self._answer = answer

    @property
    def model_name(self) -> str:
        return 'chunked'

    @property
    def system(self) -> str:
        return 'chunked'

    def _args(self, messages: list[ModelMessage]) -> str:
        return self._answer(str(messages[-1].parts[-1].content))

    async def request(
        self, messages: list[ModelMessage], model_settings: ModelSettings | None, params: ModelRequestParameters
    ) -> ModelResponse:
        call = ToolCallPart(params.output_tools[0].name, self._args(messages))
        return ModelResponse(parts=[call], usage=RequestUsage(**FAKE_USAGE), model_name='chunked')

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        params: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        name = params.output_tools[0].name
        yield _ChunkedResponse(model_request_parameters=params, tool_name=name, args=self._args(messages))


def make_agents() -> Agents:
    router = Agent(
        ChunkedModel(router_json), output_type=RouteDecision, instructions=ROUTER_INSTRUCTIONS, name='router'
    )
    chains: dict[str, list[Agent[None, Any]]] = {
        route: [
            Agent(
                ChunkedModel(step_answer(route, i + 1)),
                output_type=output_type,
                instructions=step_instructions(route, i + 1),
                name=f'{route}_step{i + 1}',
            )
            for i, output_type in enumerate(STEP_TYPES)
        ]
        for route in ROUTES
    }
    return router, chains


def make_workflow(agents: Agents) -> podium.Step[str, Answer]:
    router, chains = agents
    return build_workflow(router, chains)  # type: ignore[arg-type]


class RawPydanticAI:
    """W1 on raw Pydantic-AI over the same agents: four `Agent.run` calls, optionally streamed."""

    def __init__(self, agents: Agents) -> None:
        self.router, self.chains = agents

    async def _read(self, context: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
        async for _ in events:
            pass

    async def run(self, text: str, *, stream: bool = False) -> Answer:
        handler = self._read if stream else None
        decision = (await self.router.run(text, event_stream_handler=handler)).output
        out: Any = decision
        for step, agent in enumerate(self.chains[decision.route], 1):
            out = (await agent.run(step_prompt(text, decision.route, step, out), event_stream_handler=handler)).output
        return out


async def run_once(workflow: podium.Step[str, Answer], text: str) -> Answer:
    return (await workflow.run(text)).output


async def stream_once(workflow: podium.Step[str, Answer], text: str) -> Answer:
    async with workflow.stream(text) as events:
        async for _ in events:
            pass
    return events.result.output


async def raw_run_once(raw: RawPydanticAI, text: str) -> Answer:
    return await raw.run(text)


async def raw_stream_once(raw: RawPydanticAI, text: str) -> Answer:
    return await raw.run(text, stream=True)


async def cpu_per_run(one: Callable[[Any, str], Any], system: Any, n: int) -> float:
    gc.collect()
    start = time.process_time()
    for i in range(n):
        await one(system, INPUTS[i % len(INPUTS)])
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


async def measure(agents: Agents, n: int, blocks: int) -> dict[str, Any]:
    """W1 on `agents`, run and streamed, through podium and through raw Pydantic-AI."""
    workflow, raw = make_workflow(agents), RawPydanticAI(agents)
    for text in INPUTS * 5:  # the lean plans are captured, imports and caches warm
        check(text, await run_once(workflow, text))
        check(text, await stream_once(workflow, text))
        check(text, await raw_run_once(raw, text))
        check(text, await raw_stream_once(raw, text))
    async with workflow.stream(INPUTS[0]) as events:
        finished = [e async for e in events if isinstance(e, StepFinished)]
    paths = {e.record.path for e in finished if e.record.kind in ('agent', 'router')}
    if paths != {'lean'}:
        raise RuntimeError(f'expected every agent on the lean path while streaming, got {sorted(map(str, paths))}')
    modes: dict[str, tuple[Callable[[Any, str], Any], Any]] = {
        'run': (run_once, workflow),
        'stream': (stream_once, workflow),
        'raw_run': (raw_run_once, raw),
        'raw_stream': (raw_stream_once, raw),
    }
    cpu: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(blocks):
        for mode, (one, system) in modes.items():
            cpu[mode].append(await cpu_per_run(one, system, n // blocks))
    ms = {mode: statistics.median(samples) * 1000 for mode, samples in cpu.items()}
    return {
        'run_cpu_ms_per_run': round(ms['run'], 3),
        'stream_cpu_ms_per_run': round(ms['stream'], 3),
        'stream_vs_run_cpu': round(ms['stream'] / ms['run'], 3),
        'pydantic_ai_run_cpu_ms_per_run': round(ms['raw_run'], 3),
        'pydantic_ai_stream_cpu_ms_per_run': round(ms['raw_stream'], 3),
        'pydantic_ai_stream_vs_run_cpu': round(ms['raw_stream'] / ms['raw_run'], 3),
        'stream_vs_pydantic_ai_stream_cpu': round(ms['stream'] / ms['raw_stream'], 3),
        'time_to_first_event_ms': round(await first_event_ms(workflow, min(n, 1000)), 4),
    }


def measure_wire(n: int, blocks: int) -> dict[str, Any]:
    """`measure` with every agent on an `OpenAIChatModel` talking to W2's server (`bench/_w2/server.py`) over HTTP."""
    from bench._w2.pai_raw import make_agents as wire_agents
    from bench._w2.pai_raw import make_model

    command = [sys.executable, '-m', 'bench._w2.server', '--port', '0']
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        agents = wire_agents(make_model('openai', f'http://127.0.0.1:{port}'))
        return {f'wire_{key}': value for key, value in anyio.run(measure, agents, n, blocks).items()}
    finally:
        server.terminate()
        server.wait(10)


def measure_serve() -> dict[str, Any]:
    """`bench/serve.py` with two workers (one a core): `podium serve` on the support desk, `POST /run` under load."""
    command = [sys.executable, str(Path(__file__).with_name('serve.py')), '--workers', '2']
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    sys.stderr.write(done.stdout)
    served = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: served[key] for key in ('serve_rps', 'errors', 'p50_ms', 'p99_ms', 'load_before')}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=2000, help='runs per mode')
    parser.add_argument('--blocks', type=int, default=10, help='alternating blocks the runs of each mode are split in')
    parser.add_argument('--serve', action='store_true', help='also measure `podium serve` (serve_rps)')
    parser.add_argument('--wire', action='store_true', help='also measure W1 over HTTP with the OpenAI SDK (wire_*)')
    parser.add_argument('--wire-n', type=int, default=500, help='runs per mode over HTTP')
    args = parser.parse_args()

    result: dict[str, Any] = {'n': args.n, **anyio.run(measure, make_agents(), args.n, args.blocks)}
    if args.wire:
        result |= measure_wire(args.wire_n, args.blocks)
    result['serve_rps'] = None
    if args.serve:
        result |= measure_serve()
    streamed, plain = result['stream_cpu_ms_per_run'], result['run_cpu_ms_per_run']
    print(
        f'streamed W1: {streamed} ms CPU per run vs {plain} ms with run() ({result["stream_vs_run_cpu"]}x; '
        f'raw Pydantic-AI {result["pydantic_ai_stream_vs_run_cpu"]}x); '
        f'first event after {result["time_to_first_event_ms"]} ms'
    )
    print(json.dumps(result))


if __name__ == '__main__':
    main()
