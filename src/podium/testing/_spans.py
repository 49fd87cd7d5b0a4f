"""Span trees as compact text, for snapshot tests of what a run traces."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

__all__ = ('SHOWN_ATTRIBUTES', 'TraceCapture', 'render_span_tree')

SHOWN_ATTRIBUTES = (
    'podium.kind',
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
    spans = [s for s in spans if (s.attributes or {}).get('logfire.span_type') != 'pending_span']
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


class TraceCapture:
    """The spans of everything run while the fixture is active."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def tree(self) -> str:
        """The span tree as compact, stable text (no ids, timestamps or durations)."""
        return render_span_tree(self.exporter.get_finished_spans())

    def clear(self) -> None:
        """Forget the spans captured so far."""
        self.exporter.clear()
