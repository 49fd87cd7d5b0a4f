"""Span trees as compact text, for snapshot tests of what a run traces."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import contextmanager

import logfire
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ..tracing._tracing import instrument, uninstrument

__all__ = ('SHOWN_ATTRIBUTES', 'TraceCapture', 'capture_trace', 'render_span_tree')

SHOWN_ATTRIBUTES = (
    'podium.status',
    'podium.route',
    'podium.fallback_reason',
    'podium.path',
    'podium.attempts',
    'podium.usage.requests',
)
"""The attributes a rendered line shows: what a reader of a trace looks for, none of it volatile."""


def render_span_tree(spans: Sequence[ReadableSpan], *, attributes: Sequence[str] = SHOWN_ATTRIBUTES) -> str:
    """One line per span, indented under its parent, in start order: its message and the chosen attributes.

    Logfire's pending-span markers (sent when a span opens) are left out: only finished spans count.
    """
    spans = _finished(spans)
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in by_id else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s.start_time or 0):
            attrs = span.attributes or {}
            label = str(attrs.get('logfire.msg', span.name))
            shown = ' '.join(f'{key.removeprefix("podium.")}={attrs[key]!s}' for key in attributes if key in attrs)
            lines.append('  ' * depth + label + (f' ({shown})' if shown else ''))
            if span.context is not None:
                walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return '\n'.join(lines)


def _finished(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if (s.attributes or {}).get('logfire.span_type') != 'pending_span']


class TraceCapture:
    """The spans of everything run while the fixture (or `capture_trace`) is active."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def spans(self) -> list[ReadableSpan]:
        """The spans that finished so far, in the order they ended, without Logfire's pending-span markers."""
        return _finished(self.exporter.get_finished_spans())

    def tree(self) -> str:
        """The span tree as compact, stable text (no ids, timestamps or durations)."""
        return render_span_tree(self.exporter.get_finished_spans())

    def clear(self) -> None:
        """Forget the spans captured so far."""
        self.exporter.clear()


@contextmanager
def capture_trace(
    *, include_content: bool = False, agent_run_spans: bool = False, scrubbing: bool = True
) -> Generator[TraceCapture]:
    """Podium tracing (and Pydantic-AI's agent spans) on for the `with` block, into memory only.

    The `podium_trace` fixture is this with the defaults; the options are `podium.instrument()`'s, and
    `scrubbing=False` turns Logfire's own scrubbing off (to see what podium's redaction does alone).
    """
    exporter = InMemorySpanExporter()
    instance = logfire.configure(
        local=True,
        send_to_logfire=False,
        console=False,
        scrubbing=None if scrubbing else False,
        additional_span_processors=[SimpleSpanProcessor(exporter)],
    )
    instrument(instance, include_content=include_content, agent_run_spans=agent_run_spans)
    try:
        yield TraceCapture(exporter)
    finally:
        uninstrument()
