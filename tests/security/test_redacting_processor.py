"""The redacting span processor reaches every exporter, whatever order the processors were added in."""

from __future__ import annotations

from collections.abc import Iterator

import logfire
import pytest
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, Status, StatusCode

from podium.tracing import install_redaction, remove_redaction
from podium.tracing._redacting import RedactingSpanProcessor

KEY = 'sk-proj-CANARYa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6'
ERROR = f"status_code: 401, model_name: gpt-4o, body: {{'message': 'Incorrect API key provided: {KEY}.'}}"
REDACTED_ERROR = "status_code: 401, model_name: gpt-4o, body: {'message': 'Incorrect API key provided: [REDACTED].'}"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    """An SDK provider whose exporter was added before any redaction."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def failing_span(provider: TracerProvider) -> None:
    tracer = provider.get_tracer('test')
    with tracer.start_as_current_span(f'call with {KEY}') as span:
        span.set_attributes(
            {
                'request.headers': f'Authorization: Bearer {KEY}',
                'attempt.errors': ('ok', ERROR),
                'model': 'gpt-4o',
                'tokens': 12,
            }
        )
        try:
            raise ValueError(ERROR)
        except ValueError as exc:
            span.record_exception(exc, attributes={'attempt': 2})
        span.set_status(Status(StatusCode.ERROR, f'ValueError: {ERROR}'))


def test_every_place_a_span_holds_text_is_redacted_before_an_earlier_exporter_sees_it(
    provider: TracerProvider, exporter: InMemorySpanExporter
):
    install_redaction(provider)

    failing_span(provider)

    (span,) = exporter.get_finished_spans()
    assert span.name == 'call with [REDACTED]'
    assert dict(span.attributes or {}) == {
        'request.headers': 'Authorization: Bearer [REDACTED]',
        'attempt.errors': ('ok', REDACTED_ERROR),
        'model': 'gpt-4o',
        'tokens': 12,
    }
    (event,) = span.events
    attributes = dict(event.attributes or {})
    assert (event.name, attributes['exception.message'], attributes['attempt']) == ('exception', REDACTED_ERROR, 2)
    assert REDACTED_ERROR in str(attributes['exception.stacktrace'])
    assert KEY not in str(attributes['exception.stacktrace'])
    assert span.status.description == f'ValueError: {REDACTED_ERROR}'


def test_without_attributes_only_events_and_status_are_redacted(
    provider: TracerProvider, exporter: InMemorySpanExporter
):
    """What `podium.instrument()` installs when spans carry no message content; a later full install widens it."""
    processor = install_redaction(provider, attributes=False)

    failing_span(provider)

    (span,) = exporter.get_finished_spans()
    assert span.name == f'call with {KEY}'
    assert (span.attributes or {})['request.headers'] == f'Authorization: Bearer {KEY}'
    (event,) = span.events
    assert (event.attributes or {})['exception.message'] == REDACTED_ERROR
    assert span.status.description == f'ValueError: {REDACTED_ERROR}'
    assert install_redaction(provider) is processor
    assert processor.attributes
    assert install_redaction(provider, attributes=False).attributes  # never narrowed again


def test_without_redaction_the_key_reaches_the_exporter(provider: TracerProvider, exporter: InMemorySpanExporter):
    failing_span(provider)

    (span,) = exporter.get_finished_spans()
    assert KEY in span.name
    assert KEY in str(span.status.description)


class _Ending(SpanProcessor):
    """Notes what a span holds as it starts to end, before the redaction added after it runs."""

    def __init__(self) -> None:
        self.seen: list[tuple[Span, object, object]] = []

    def _on_ending(self, span: Span) -> None:
        self.seen.append((span, span._attributes, span._events))


def test_a_span_with_nothing_secret_is_not_copied(provider: TracerProvider, exporter: InMemorySpanExporter):
    ending = _Ending()
    provider.add_span_processor(ending)
    install_redaction(provider)
    tracer = provider.get_tracer('test')

    with tracer.start_as_current_span('podium step answer') as span:
        span.set_attributes({'podium.status': 'ok', 'podium.usage.input_tokens': 10})
        span.add_event('retry', {'reason': 'rate_limit'})

    ((live, attributes, events),) = ending.seen
    assert live._attributes is attributes
    assert live._events is events
    (exported,) = exporter.get_finished_spans()
    assert dict(exported.attributes or {}) == {'podium.status': 'ok', 'podium.usage.input_tokens': 10}


def processors(provider: TracerProvider) -> tuple[SpanProcessor, ...]:
    return provider._active_span_processor._span_processors


def test_installing_twice_adds_one_processor(provider: TracerProvider):
    first = install_redaction(provider)
    second = install_redaction(provider)

    assert first is second
    assert [type(p) for p in processors(provider)] == [SimpleSpanProcessor, RedactingSpanProcessor]


def test_removed_redaction_passes_spans_by_until_installed_again(
    provider: TracerProvider, exporter: InMemorySpanExporter
):
    processor = install_redaction(provider)

    assert remove_redaction(provider) is True
    assert remove_redaction(provider) is False
    failing_span(provider)
    assert install_redaction(provider) is processor
    failing_span(provider)

    removed, installed = exporter.get_finished_spans()
    assert (KEY in removed.name, KEY in installed.name) == (True, False)
    assert len(processors(provider)) == 2


def test_logfires_proxy_is_followed_to_its_provider(exporter: InMemorySpanExporter):
    instance = logfire.configure(
        local=True, send_to_logfire=False, console=False, additional_span_processors=[SimpleSpanProcessor(exporter)]
    )
    proxy = instance.config.get_tracer_provider()
    processor = install_redaction(proxy)

    with pytest.raises(ValueError, match='Incorrect API key'), instance.span('podium step {name}', name='answer'):
        raise ValueError(ERROR)

    assert install_redaction(proxy.provider) is processor
    (span,) = [s for s in exporter.get_finished_spans() if isinstance(s, ReadableSpan)]
    (event,) = span.events
    assert (event.attributes or {})['exception.message'] == REDACTED_ERROR
    assert span.status.description == f'ValueError: {REDACTED_ERROR}'


def test_a_provider_that_exports_nothing_gets_a_processor_attached_to_nothing():
    provider = NoOpTracerProvider()

    processor = install_redaction(provider)

    assert isinstance(processor, RedactingSpanProcessor)
    assert remove_redaction(provider) is False
