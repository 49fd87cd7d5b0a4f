"""Streams that break midway, over real HTTP: OpenAI's and Anthropic's SDKs through Pydantic-AI against the FaultServer.

A stream that fails after partial output never ends in success: the step says to discard what it streamed, its
partial output is never its output, and the run counts what the provider billed. A retry or fallback then streams
the step again; a failure before the first chunk is retried by the model's own retry loop, unseen by the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import pytest
from pydantic_ai import Agent
from pydantic_ai.models import Model
from stream_events import collect, comparable

import podium
from podium.events import OutputDelta, OutputDiscarded, RunEvent, RunFailed, RunFinished
from podium.fallbacks import Backoff, RetryingModel, VirtualClock, fallback, retry
from podium.testing import Behaviour, Fault, FaultServer, Reply

pytestmark = pytest.mark.anyio

Protocol = Literal['openai', 'anthropic']
PROTOCOLS: tuple[Protocol, ...] = ('openai', 'anthropic')
ANSWER = 'The answer is forty-two, as ever.'
MIDWAY: dict[str, Behaviour] = {
    'error event': Fault.stream_error(),
    'cut connection': Fault.reset_mid_body(),
    'no finish reason': Fault.truncated(),
}


@pytest.fixture
async def models(fault_server: FaultServer) -> AsyncIterator[dict[Protocol, Model]]:
    openai, anthropic = fault_server.openai_model(), fault_server.anthropic_model()
    yield {'openai': openai, 'anthropic': anthropic}
    await openai.client.close()
    await anthropic.client.close()


def text_of(events: list[RunEvent], path: tuple[str, ...]) -> str:
    return ''.join(e.text or '' for e in events if isinstance(e, OutputDelta) and e.path == path)


@pytest.mark.parametrize('fault', MIDWAY.values(), ids=MIDWAY.keys())
@pytest.mark.parametrize('protocol', PROTOCOLS)
async def test_a_stream_that_breaks_after_partial_output_fails_the_step_on_both_paths(
    fault_server: FaultServer, models: dict[Protocol, Model], protocol: Protocol, fault: Behaviour
):
    agent = Agent(models[protocol], name='writer')
    runs: list[list[RunEvent]] = []
    for lean in (None, False):
        step = podium.agent(agent, lean=lean)
        fault_server.push(Reply.text('warm'), fault)
        await collect(step, 'warm up')  # the lean step captures its plan
        runs.append(await collect(step, 'question'))
    for events, path in zip(runs, ('lean', 'agent'), strict=True):
        last = events[-1]
        assert isinstance(last, RunFailed), last
        assert not any(isinstance(e, RunFinished) for e in events)
        assert text_of(events, ('writer',)) == 'The answer is'  # the partial output reached the consumer...
        types = [e.type for e in events]
        # ...and was discarded before the step finished.
        assert types.index('output_delta') < types.index('output_discarded') < types.index('step_finished')
        [record] = last.records
        assert (record.status, record.path, record.output) == ('failed', path, None)
        # What the provider billed: Anthropic reports the input tokens as the stream opens, OpenAI only at its end.
        assert record.usage.requests == 1
        assert record.usage.input_tokens == (10 if protocol == 'anthropic' else 0)
    lean_events, agent_events = runs
    assert comparable(lean_events, types=frozenset({'agent_event', 'output_delta', 'output_discarded'})) == comparable(
        agent_events, types=frozenset({'agent_event', 'output_delta', 'output_discarded'})
    )
    assert lean_events[-1].records[0].usage == agent_events[-1].records[0].usage  # type: ignore[union-attr]


@pytest.mark.parametrize('protocol', PROTOCOLS)
async def test_a_retry_discards_the_broken_output_then_streams_the_step_again(
    fault_server: FaultServer, models: dict[Protocol, Model], protocol: Protocol
):
    step = retry(
        podium.agent(Agent(models[protocol], name='writer')),
        backoff=Backoff(base=0.01, jitter='none'),
        clock=VirtualClock(),
        name='retried',
    )
    fault_server.push(Reply.text('warm'), Fault.stream_error(), Reply.text(ANSWER))
    await collect(step, 'warm up')
    events = await collect(step, 'question')
    path = ('retried', 'writer')
    step_events = [e for e in events if e.type in ('output_delta', 'output_discarded') and e.path == path]
    discarded = next(i for i, e in enumerate(step_events) if isinstance(e, OutputDiscarded))
    assert ''.join(e.text or '' for e in step_events[:discarded]) == 'The answer is'  # type: ignore[union-attr]
    assert ''.join(e.text or '' for e in step_events[discarded + 1 :]) == ANSWER  # type: ignore[union-attr]
    last = events[-1]
    assert isinstance(last, RunFinished)
    assert last.result.output == ANSWER
    assert [r.status for r in last.result.steps if r.name == 'writer'] == ['failed', 'ok']
    assert last.result.usage.requests == 2  # the broken stream was billed too


@pytest.mark.parametrize('protocol', PROTOCOLS)
async def test_a_fallback_discards_the_primarys_output_and_streams_the_backups(
    fault_server: FaultServer, models: dict[Protocol, Model], protocol: Protocol
):
    primary = podium.agent(Agent(models[protocol], name='primary'))
    backup = podium.agent(Agent(models[protocol], name='backup'))
    workflow = fallback(primary, backup, name='answer')
    fault_server.push(Reply.text('warm'), Fault.reset_mid_body(), Reply.text(ANSWER))
    await collect(primary, 'warm up')
    events = await collect(workflow, 'question')
    kinds = [(e.type, e.path[-1]) for e in events if e.type in ('output_delta', 'output_discarded')]
    assert kinds.index(('output_discarded', 'primary')) < kinds.index(('output_delta', 'backup'))
    assert text_of(events, ('answer', 'backup')) == ANSWER
    last = events[-1]
    assert isinstance(last, RunFinished)
    assert last.result.output == ANSWER


@pytest.mark.parametrize('protocol', PROTOCOLS)
async def test_a_failure_before_the_first_chunk_is_retried_by_the_model_unseen_by_the_stream(
    fault_server: FaultServer, models: dict[Protocol, Model], protocol: Protocol
):
    model = RetryingModel(models[protocol], backoff=Backoff(base=0.01, jitter='none'), clock=VirtualClock())
    step = podium.agent(Agent(model, name='writer'))
    fault_server.push(Reply.text('warm'), Fault.server_error(), Fault.rate_limit(retry_after=0.01), Reply.text(ANSWER))
    await collect(step, 'warm up')
    events = await collect(step, 'question')
    assert not any(isinstance(e, OutputDiscarded) for e in events)
    assert text_of(events, ('writer',)) == ANSWER
    last = events[-1]
    assert isinstance(last, RunFinished)
    [record] = last.result.steps
    assert [(a.error, a.status_code) for a in record.attempts] == [
        ('ModelServerError', 500),
        ('ModelRateLimitError', 429),
        (None, None),
    ]
    assert fault_server.hits == 4
    assert all(request.stream for request in fault_server.requests)
