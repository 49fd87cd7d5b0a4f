"""``podium_default`` with `podium.instrument()` on, Logfire configured to export nowhere (as W1's traced system)."""

from __future__ import annotations

import sys

import logfire
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import podium
from bench._w1.pai_logfire import CountingExporter
from bench._w1.podium_default import build_workflow, checked_runner
from bench._w1.workload import INPUTS, RunOne
from bench._w2.harness import main
from bench._w2.pai_raw import make_agents, make_model


async def build(provider: str, base_url: str) -> RunOne:
    exporter = CountingExporter()
    instance = logfire.configure(
        local=True, send_to_logfire=False, console=False, additional_span_processors=[SimpleSpanProcessor(exporter)]
    )
    podium.instrument(instance)
    router, chains = make_agents(make_model(provider, base_url))
    run_one = await checked_runner(build_workflow(router, chains), 'lean')
    before = exporter.spans
    await run_one(INPUTS[0])
    if exporter.spans == before:
        raise RuntimeError('Logfire recorded no span: the run is not traced')
    print(f'spans per W2 run: {exporter.spans - before}', file=sys.stderr)
    return run_one


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim', 'openai', 'logfire'])
