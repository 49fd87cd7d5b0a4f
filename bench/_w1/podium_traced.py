"""``podium_default`` with tracing on: podium's run and step spans, and Pydantic-AI's chat spans.

The run span is also the router's (the step the run starts from); each chain step has a span of its own.
`podium.instrument()` also instruments the agents, so each lean call opens the `chat <model>` span an `Agent.run`
would, under its step span: 8 spans per run. Logfire is configured locally: nothing is sent or printed, and spans end in
``pai_logfire``'s counting exporter, so the measurement covers creating and ending spans, not shipping them.
"""

from __future__ import annotations

import sys

import logfire
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import podium
from bench._w1.pai_logfire import CountingExporter
from bench._w1.pai_raw import make_agents
from bench._w1.podium_default import build_workflow, checked_runner
from bench._w1.workload import INPUTS, RunOne, main


async def build_traced(*, podium_spans: bool = True, agent_run_spans: bool = False) -> RunOne:
    """The traced workflow; without `podium_spans`, only Pydantic-AI's instrumentation is on."""
    exporter = CountingExporter()
    instance = logfire.configure(
        local=True, send_to_logfire=False, console=False, additional_span_processors=[SimpleSpanProcessor(exporter)]
    )
    if podium_spans:
        podium.instrument(instance, agent_run_spans=agent_run_spans)
    else:
        instance.instrument_pydantic_ai()
    router, chains = make_agents()
    run_one = await checked_runner(build_workflow(router, chains), 'lean')
    before = exporter.spans
    await run_one(INPUTS[0])
    if exporter.spans == before:
        raise RuntimeError('Logfire recorded no span: the run is not traced')
    print(f'spans per W1 run: {exporter.spans - before}', file=sys.stderr)
    return run_one


async def build() -> RunOne:
    return await build_traced()


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim', 'logfire'])
