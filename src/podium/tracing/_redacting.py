"""A span processor that takes secrets out of every span before any exporter sees it.

Logfire's scrubbing leaves the `exception.message` and `exception.stacktrace` of exception events and a span's
status description alone, and that is where a provider's error lands (its body may echo the request, API key
included): on every Logfire span that ends in an exception, and on Pydantic-AI's spans when content capture is on.
The OpenTelemetry SDK calls every processor's `_on_ending` before any processor's `on_end`, while the span can
still be changed, so redacting there reaches every exporter whatever order the processors were added in.
"""

from __future__ import annotations

from collections.abc import ItemsView, Mapping, Sequence
from typing import cast

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, Span, SpanProcessor
from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Status
from opentelemetry.util.types import AnyValue

from .._core._redact import redact

__all__ = ('RedactingSpanProcessor', 'attached_redaction', 'install_redaction', 'remove_redaction', 'sdk_provider')


class RedactingSpanProcessor(SpanProcessor):
    """Redacts secrets (see `podium._core._redact.redact`) from spans as they end.

    Event attributes and the status always: that is where exceptions land, whatever a span's content policy. The
    name and string attributes only with `attributes`: they hold message content only when content capture is on,
    and checking them costs about 30 µs a span. Values with nothing secret-looking are left as they are, and a span
    with none is not copied.
    """

    def __init__(self, *, attributes: bool = True) -> None:
        self.enabled = True
        """`remove_redaction` turns this off: the SDK cannot detach a processor, so a removed one passes spans by."""
        self.attributes = attributes
        """Whether the span's name and attributes are redacted as well as its events and status."""

    def _on_ending(self, span: Span) -> None:
        if self.enabled:
            _redact_span(span, attributes=self.attributes)


_PROCESSOR_ATTRIBUTE = '_podium_redaction'
"""Where a provider keeps its redacting processor: it belongs to the provider, and podium keeps no registry."""


def install_redaction(tracer_provider: object, *, attributes: bool = True) -> RedactingSpanProcessor:
    """Redact the spans of `tracer_provider` (an SDK provider, or Logfire's proxy of one) from now on.

    `attributes=False` redacts only events (where exceptions are recorded) and status descriptions, for spans that
    carry no message content; a provider once redacting attributes keeps doing so.

    Idempotent: a provider gets one processor however often this is called (two threads racing may attach two,
    which is harmless: redacting twice changes nothing). Logfire's proxy is followed to the provider it currently
    stands for, so call this again after `logfire.configure()` replaced that provider; before any provider is
    configured there is nothing to export, and the processor returned is attached to nothing.
    """
    provider = sdk_provider(tracer_provider)
    processor = attached_redaction(provider)
    if processor is None:
        processor = RedactingSpanProcessor(attributes=attributes)
        if provider is not None:
            provider.add_span_processor(processor)
            setattr(provider, _PROCESSOR_ATTRIBUTE, processor)
    processor.enabled = True
    processor.attributes = processor.attributes or attributes
    return processor


def remove_redaction(tracer_provider: object) -> bool:
    """Stop redacting the spans of `tracer_provider`; whether redaction was on.

    The SDK has no way to detach a processor, so the processor stays attached, switched off, and
    `install_redaction` switches it back on.
    """
    processor = attached_redaction(sdk_provider(tracer_provider))
    if processor is None or not processor.enabled:
        return False
    processor.enabled = False
    return True


def attached_redaction(provider: SDKTracerProvider | None) -> RedactingSpanProcessor | None:
    """The redacting processor attached to `provider`, on or off, if any."""
    processor = getattr(provider, _PROCESSOR_ATTRIBUTE, None)
    return processor if isinstance(processor, RedactingSpanProcessor) else None


def sdk_provider(tracer_provider: object) -> SDKTracerProvider | None:
    """The SDK provider spans are ended by: `tracer_provider` itself, or the one Logfire's proxy stands for."""
    inner = getattr(tracer_provider, 'provider', tracer_provider)
    return inner if isinstance(inner, SDKTracerProvider) else None


def _redact_span(span: Span, *, attributes: bool) -> None:
    """Replace, on a span that is ending, whatever holds a secret; the SDK has no public way to change it now."""
    if attributes:
        name = redact(span.name)
        if name is not span.name:
            span._name = name  # pyright: ignore[reportPrivateUsage]
        values = span._attributes  # pyright: ignore[reportPrivateUsage]
        if values:
            cleaned = _redact_attributes(values)
            if cleaned is not None:
                span._attributes = _bounded_like(values, cleaned)  # pyright: ignore[reportPrivateUsage]
    events = span.events
    if events:
        redacted = [_redact_event(event) for event in events]
        if any(new is not old for new, old in zip(redacted, events, strict=True)):
            _replace_events(span, redacted)
    status = span.status
    if status.description:
        description = redact(status.description)
        if description is not status.description:
            span._status = Status(status.status_code, description)  # pyright: ignore[reportPrivateUsage]


def _redact_event(event: Event) -> Event:
    attributes = event.attributes
    cleaned = _redact_attributes(attributes) if attributes else None
    name = redact(event.name)
    if cleaned is None and name is event.name:
        return event
    new_attributes = attributes if cleaned is None else _bounded_like(attributes, cleaned)
    return Event(name, new_attributes, event.timestamp)


def _redact_attributes(attributes: Mapping[str, AnyValue]) -> dict[str, AnyValue] | None:
    """The attributes with secrets redacted, or `None` when none held one (the common case, kept allocation-free)."""
    cleaned: dict[str, AnyValue] | None = None
    for key, value in _items(attributes):
        new: AnyValue
        if isinstance(value, str):
            new = redact(value)
        elif isinstance(value, int | float) or value is None:  # bool is an int
            continue
        else:
            new = _redact_value(value)
        if new is not value:
            if cleaned is None:
                cleaned = dict(_items(attributes))
            cleaned[key] = new
    return cleaned


def _items(attributes: Mapping[str, AnyValue]) -> ItemsView[str, AnyValue]:
    """The items, read from the dict inside `BoundedAttributes`: its mapping interface costs ~1 µs a span."""
    if isinstance(attributes, BoundedAttributes):
        return attributes._dict.items()  # pyright: ignore[reportPrivateUsage]
    return attributes.items()


def _redact_value(value: AnyValue) -> AnyValue:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        items = cast('Sequence[AnyValue]', value)
        new_items = [_redact_value(item) for item in items]
        if any(new is not old for new, old in zip(new_items, items, strict=True)):
            return tuple(new_items)
        return value
    if isinstance(value, Mapping):
        cleaned = _redact_attributes(cast('Mapping[str, AnyValue]', value))
        return value if cleaned is None else cleaned
    return value


def _bounded_like(original: object, attributes: dict[str, AnyValue]) -> BoundedAttributes:
    """Immutable attributes with the limits (and the count of dropped ones) of `original`."""
    if not isinstance(original, BoundedAttributes):
        return BoundedAttributes(attributes=attributes)
    bounded = BoundedAttributes(original.maxlen, attributes, immutable=True, max_value_len=original.max_value_len)
    bounded.dropped = original.dropped
    return bounded


def _replace_events(span: Span, events: list[Event]) -> None:
    """Swap a span's events for `events`, keeping the count of dropped ones (the list holds no more once ended)."""
    replacement = BoundedList.from_seq(None, events)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    replacement.dropped = span.dropped_events
    span._events = replacement  # pyright: ignore[reportPrivateUsage]
