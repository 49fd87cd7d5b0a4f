"""Canary secrets never leave a run: not in spans, records, summaries, error messages or logs (FAULTS.md row 22).

Real provider errors from the FaultServer (401, 400, 429, 500) carry the canary API key in their body, an echoed
`Authorization` header and other secret shapes; prompts, tool arguments and tool results carry canaries too.
Message content stays out of spans unless `include_content=True`, and even then secrets are redacted.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

import podium
from podium import AllModelsFailed, ProviderAuthError, RunResult, StepFailed, StepRecord, WorkflowError
from podium.fallbacks import RetryingModel, VirtualClock, fallback, without_sdk_retries
from podium.testing import Behaviour, FaultServer, Reply, ScriptedModel, capture_trace
from podium.testing._fault_server import ErrorResponse

pytestmark = pytest.mark.anyio

CANARY = 'CANARY'
"""In every secret below and nowhere else: finding it anywhere is a leak."""
API_KEY = 'sk-proj-CANARYa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8'
SHAPES = {
    'aws': 'AKIACANARY0000000000',
    'github': 'ghp_CANARY000000000000000000000000000000',
    'google': 'AIzaCANARY00000000000000000000000000000',
    'jwt': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.CANARYsig_0123456789',
    'slack': 'xoxb-123456789012-CANARY0000',
}
PROMPT = f'my invoice shows a double charge; my key is {API_KEY}'
TOOL_ARGUMENT = f'password={CANARY}-hunter2'
TOOL_RESULT = f'invoice 1234, paid with token: {CANARY}-tok-{SHAPES["github"]}'


def error_body(status: int, message: str, type: str, code: str) -> ErrorResponse:
    """An OpenAI error whose body quotes the key, echoes the request's headers and carries other secret shapes."""
    body = {
        'error': {'message': f'{message} (key {API_KEY})', 'type': type, 'param': None, 'code': code},
        'request': {
            'headers': {'authorization': f'Bearer {API_KEY}', 'x-api-key': API_KEY},
            'proxy': f'https://svc:{CANARY}-pw@proxy.internal',
            'credentials': SHAPES,
        },
    }
    return ErrorResponse(status, message, type, code, body=body)


ERRORS = {
    '401': error_body(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'),
    '400': error_body(400, "Invalid 'messages[0].content'.", 'invalid_request_error', 'invalid_value'),
    '429': error_body(429, 'Rate limit reached for requests.', 'requests', 'rate_limit_exceeded'),
    '500': error_body(500, 'The server had an error while processing your request.', 'server_error', 'server_error'),
}


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing into memory, with Logfire's own scrubbing off: what is checked is podium's redaction alone."""
    with capture_trace(scrubbing=False) as capture:
        yield capture.exporter  # everything exported, Logfire's pending-span markers included


@pytest.fixture
def spans_with_content() -> Iterator[InMemorySpanExporter]:
    """Message content in spans: the documented opt-in."""
    with capture_trace(include_content=True, scrubbing=False) as capture:
        yield capture.exporter


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger='podium')
    return caplog


def openai(server: FaultServer, name: str = 'gpt-4o') -> Model:
    """The provider path as an application sets it up, with the canary as its API key."""
    provider = OpenAIProvider(api_key=API_KEY, base_url=server.base_url)
    return without_sdk_retries(OpenAIChatModel(name, provider=provider))


def leaks_in_spans(spans: Sequence[ReadableSpan]) -> list[str]:
    """Where the canary shows in a span: its name, an attribute, an event or its status."""
    found: list[str] = []
    for span in spans:
        places: list[tuple[str, object]] = [('name', span.name), ('status', span.status.description)]
        places += [(f'attribute {key}', value) for key, value in (span.attributes or {}).items()]
        for event in span.events:
            places.append((f'event {event.name}', event.name))
            places += [(f'event {event.name} {key}', value) for key, value in (event.attributes or {}).items()]
        found += [f'{span.name}: {where}' for where, value in places if CANARY in str(value)]
    return found


def leaks_in_records(records: Sequence[StepRecord]) -> list[str]:
    found: list[str] = []
    for record in records:
        texts: list[object] = [record.error, record.fallback_reason, record.reason, *record.detail.values()]
        texts += [text for attempt in record.attempts for text in (attempt.error, attempt.note)]
        texts.append(json.dumps(record.summary(), default=repr))
        found += [f'{record.name}: {text}' for text in texts if CANARY in str(text)]
    return found


def leaks_in_error(error: WorkflowError) -> list[str]:
    attempts = getattr(error, 'attempts', ())
    texts = [error.message, str(error), repr(error), *(str(a) for a in attempts)]
    return [text for text in texts if CANARY in text] + leaks_in_records(error.records)


async def failed_run(step: podium.Step[str, Any], error_type: type[WorkflowError]) -> WorkflowError:
    with pytest.raises(error_type) as raised:
        await step.run(PROMPT)
    return raised.value


@pytest.mark.parametrize(('status', 'error_type'), [('401', ProviderAuthError), ('400', StepFailed)])
async def test_a_rejected_request_leaks_the_key_nowhere(
    fault_server: FaultServer,
    spans: InMemorySpanExporter,
    logs: pytest.LogCaptureFixture,
    status: str,
    error_type: type[WorkflowError],
):
    fault_server.default = ERRORS[status]
    step = podium.agent(Agent(openai(fault_server), name='answer'))

    error = await failed_run(step, error_type)

    finished = spans.get_finished_spans()
    [failed] = [s for s in finished if s.status.description]
    assert failed.name == 'podium run'  # the agent step is the workflow: the run span is its span too
    # The run's error is recorded with the provider's error it wraps, whose body had the key.
    assert '[REDACTED]' in str((failed.events[0].attributes or {})['exception.stacktrace'])
    assert leaks_in_spans(finished) == []
    assert leaks_in_error(error) == []
    assert '[REDACTED]' in str(error.records[0].error)  # the body was recorded, and redacted
    assert CANARY not in logs.text
    assert fault_server.hits == 1


async def test_rate_limits_retried_then_given_up_leak_nothing(
    fault_server: FaultServer, spans: InMemorySpanExporter, logs: pytest.LogCaptureFixture
):
    fault_server.default = ERRORS['429']
    model = RetryingModel(openai(fault_server), attempts=2, clock=VirtualClock())
    step = podium.agent(Agent(model, name='answer'))

    error = await failed_run(step, StepFailed)

    assert [a.error for a in error.records[0].attempts] == ['ModelRateLimitError', 'ModelRateLimitError']
    assert leaks_in_spans(spans.get_finished_spans()) == []
    assert leaks_in_error(error) == []
    assert CANARY not in logs.text
    assert fault_server.hits == 2


async def test_every_model_failing_leaks_nothing(
    fault_server: FaultServer, spans: InMemorySpanExporter, logs: pytest.LogCaptureFixture
):
    fault_server.default = ERRORS['500']
    clock = VirtualClock()
    models = FallbackModel(
        RetryingModel(openai(fault_server, 'primary'), attempts=2, clock=clock),
        RetryingModel(openai(fault_server, 'backup'), attempts=1, clock=clock),
    )
    step = podium.agent(Agent(models, name='answer'))

    error = await failed_run(step, AllModelsFailed)

    assert len(error.records[0].attempts) == 3
    assert leaks_in_spans(spans.get_finished_spans()) == []
    assert leaks_in_error(error) == []
    assert CANARY not in logs.text


def scripted(body: Any) -> Behaviour:
    """The primary fails with the canary body; the backup calls the tool once, then answers."""
    if body['model'] == 'primary':
        return ERRORS['500']
    if not any(m['role'] == 'tool' for m in body['messages']):
        return Reply.tool_call('lookup', {'query': TOOL_ARGUMENT})
    return Reply.text('Refunded the second charge.')


def desk(server: FaultServer) -> podium.Step[str, str]:
    """An agent with a tool whose result holds a canary, behind a fallback from a primary that fails."""

    def agent_on(model: Model, name: str) -> podium.Step[str, str]:
        agent = Agent(model, name=name, instructions='Resolve the billing problem.')

        @agent.tool_plain
        def lookup(query: str) -> str:
            """Find the invoice a customer means."""
            return TOOL_RESULT

        return podium.agent(agent)

    primary = agent_on(RetryingModel(openai(server, 'primary'), attempts=1), 'primary')
    return fallback(primary, agent_on(openai(server, 'backup'), 'backup'))


async def test_prompts_tool_arguments_and_results_stay_out_of_spans_and_records(
    fault_server: FaultServer, spans: InMemorySpanExporter, logs: pytest.LogCaptureFixture
):
    fault_server.default = scripted

    result: RunResult[str] = await desk(fault_server).run(PROMPT)

    assert result.output == 'Refunded the second charge.'
    assert result.record('fallback(primary, backup)').fallback_reason == 'server_error'
    finished = spans.get_finished_spans()
    assert 'execute_tool lookup' in {s.name for s in finished}
    assert leaks_in_spans(finished) == []
    assert leaks_in_records(result.steps) == []
    assert CANARY not in json.dumps(result.summary(), default=repr)
    assert CANARY not in logs.text


async def test_content_in_spans_is_the_opt_in_and_secrets_in_it_are_still_redacted(
    fault_server: FaultServer, spans_with_content: InMemorySpanExporter
):
    fault_server.default = scripted

    await desk(fault_server).run(PROMPT)

    finished = spans_with_content.get_finished_spans()
    text = ' '.join(f'{s.attributes} {[e.attributes for e in s.events]} {s.status.description}' for s in finished)
    assert 'my invoice shows a double charge' in text  # the prompt is there, as asked
    assert 'invoice 1234, paid with token: [REDACTED]' in text  # so is the tool result, without its secret
    assert 'The server had an error while processing your request. (key [REDACTED])' in text  # and the error
    assert leaks_in_spans(finished) == []


PROVIDER_SWAP = f"""
import logfire, podium
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

podium.instrument()  # at start-up, before Logfire is configured
exporter = InMemorySpanExporter()
logfire.configure(send_to_logfire=False, console=False, scrubbing=False,
                  additional_span_processors=[SimpleSpanProcessor(exporter)])

@podium.step
def call(text: str) -> str:
    raise RuntimeError('401 Unauthorized: Incorrect API key provided: {API_KEY}')

try:
    call.run_sync('hello')
except podium.WorkflowError:
    pass
for span in exporter.get_finished_spans():
    print(span.name, span.status.description, [dict(e.attributes or {{}}) for e in span.events])
"""


def test_a_provider_configured_after_instrument_is_redacted_too():
    """`podium.instrument()` before `logfire.configure()`: the run puts the redacting processor on the provider
    Logfire configured later. In a fresh interpreter, since Logfire's default configuration is process-wide."""
    done = subprocess.run([sys.executable, '-c', PROVIDER_SWAP], capture_output=True, text=True, check=True)

    lines = done.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [['podium', 'run']]
    assert 'Incorrect API key provided: [REDACTED]' in done.stdout
    assert CANARY not in done.stdout


async def test_a_routers_reason_quoting_a_key_is_redacted_in_its_span(spans: InMemorySpanExporter):
    """A router's reason is model output, which may quote the message; it is a span attribute even without content."""
    decision = {'route': 'billing', 'confidence': 0.9, 'reason': f'the customer pasted their key {API_KEY}'}
    desk = podium.Router(
        {
            'billing': podium.Route(podium.step(str.upper, name='billing'), 'billing questions'),
            'other': podium.Route(podium.step(str.lower, name='other'), 'anything else'),
        },
        fallback='other',
        model=ScriptedModel(default=decision),
    )

    await desk.run(PROMPT)

    [step] = [s for s in spans.get_finished_spans() if (s.attributes or {}).get('podium_step') == 'router']
    assert (step.attributes or {})['podium.reason'] == 'the customer pasted their key [REDACTED]'
    assert leaks_in_spans(spans.get_finished_spans()) == []
