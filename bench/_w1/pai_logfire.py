"""``pai_raw`` with Logfire instrumenting Pydantic-AI: the cost of tracing a plain Pydantic-AI application.

Logfire is configured locally: nothing is sent, nothing is printed. Spans end in a SimpleSpanProcessor whose
exporter only counts them, so the measurement covers creating and ending spans but not shipping them, and
retained spans cannot grow the heap over a long run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import logfire
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from bench._w1 import pai_raw
from bench._w1.workload import INPUTS, RunOne, main


class CountingExporter(SpanExporter):
    """Drops every span after counting it; the count proves instrumentation is on."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


def configure_logfire() -> CountingExporter:
    exporter = CountingExporter()
    logfire.configure(
        send_to_logfire=False,
        console=False,
        additional_span_processors=[SimpleSpanProcessor(exporter)],
    )
    return exporter


async def build() -> RunOne:
    exporter = configure_logfire()
    logfire.instrument_pydantic_ai()
    run_one = await pai_raw.build()
    await run_one(INPUTS[0])
    if not exporter.spans:
        raise RuntimeError('Logfire recorded no span: Pydantic-AI is not instrumented')
    print(f'spans per W1 run: {exporter.spans}', file=sys.stderr)
    return run_one


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim', 'logfire'])
