from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
from inline_snapshot import snapshot
from opentelemetry.trace import StatusCode
from pydantic_ai import Agent

import podium
from podium.testing import ScriptedModel, TraceCapture

sys.path.insert(0, str(Path(__file__).parents[2] / 'examples'))
from support_desk import workflow

pytestmark = pytest.mark.anyio

ROOT_KEYS = (
    'logfire.msg',
    'podium_workflow',
    'podium_step',
    'podium_kind',
    'podium.status',
    'podium.model',
    'podium.path',
    'podium.usage.requests',
    'podium.steps',
)


@podium.step
def upper(text: str) -> str:
    return text.upper()


@podium.step
def shout(text: str) -> str:
    return f'{text}!'


async def test_a_support_desk_run_traces_run_step_and_agent_spans(podium_trace: TraceCapture):
    await workflow.run('my invoice shows a double charge')

    assert podium_trace.tree() == snapshot("""\
podium run guarded(support_desk) (status=ok usage.requests=4)
  podium step secrets_guard (status=ok route=pass)
  podium step support_desk (status=ok route=billing path=lean usage.requests=1)
    chat demo-router
    podium step billing (status=ok)
      podium step billing_extract (status=ok path=lean usage.requests=1)
        chat demo-billing
      podium step billing_urgency (status=ok route=high)
        podium step billing_escalate (status=ok path=lean usage.requests=1)
          chat demo-billing
  podium step injection_guard (status=ok route=pass)
    podium step injection_guard_check (status=ok path=lean usage.requests=1)
      chat demo-injection
  podium step refund_policy (status=ok route=pass)\
""")


async def test_a_failed_workflow_step_is_the_error_of_the_run_span(podium_trace: TraceCapture):
    @podium.step
    def explode(text: str) -> str:
        raise ValueError('nope')

    with pytest.raises(podium.StepFailed):
        await explode.run('x')

    assert podium_trace.tree() == snapshot('podium run explode (status=failed usage.requests=0)')
    [span] = podium_trace.spans()
    # The run's error is recorded, at Logfire's error level; its stack trace shows the step's own exception.
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes['logfire.level_num'] == 17  # Logfire's "error" level
    assert (attributes['podium_step'], attributes['podium_kind']) == ('explode', 'function')
    [event] = span.events
    event_attributes = event.attributes or {}
    assert str(event_attributes['exception.type']).endswith('StepFailed')
    assert 'ValueError: nope' in str(event_attributes['exception.stacktrace'])


async def test_a_failed_inner_step_is_an_error_span_under_the_failed_run(podium_trace: TraceCapture):
    @podium.step
    def explode(text: str) -> str:
        raise ValueError('nope')

    with pytest.raises(podium.StepFailed):
        await (upper >> explode).named('desk').run('x')

    assert podium_trace.tree() == snapshot("""\
podium run desk (status=failed usage.requests=0)
  podium step upper (status=ok)
  podium step explode (status=failed)\
""")
    spans = {span.name: span for span in podium_trace.spans()}
    for name, error in (('podium step', 'ValueError'), ('podium run', 'StepFailed')):
        span = spans[name]
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})['logfire.level_num'] == 17  # Logfire's "error" level
        [event] = span.events
        assert str((event.attributes or {})['exception.type']).endswith(error)


async def test_the_run_span_carries_the_workflow_steps_attributes(podium_trace: TraceCapture):
    answer = podium.agent(Agent(ScriptedModel(default='fine', model_name='m'), name='answer'))

    await answer.run('how are you?')

    [chat, run] = podium_trace.spans()
    assert chat.parent is not None
    assert run.context is not None
    assert chat.parent.span_id == run.context.span_id
    attributes = dict(run.attributes or {})
    assert {key: attributes.get(key) for key in ROOT_KEYS} == snapshot(
        {
            'logfire.msg': 'podium run answer',
            'podium_workflow': 'answer',
            'podium_step': 'answer',
            'podium_kind': 'agent',
            'podium.status': 'ok',
            'podium.model': 'm',
            'podium.path': 'lean',
            'podium.usage.requests': 1,
            'podium.steps': 1,
        }
    )


async def test_a_workflow_of_several_top_steps_keeps_a_span_for_each(podium_trace: TraceCapture):
    # An unnamed chain leaves no record: its steps are the run's top steps, each with a span of its own.
    await (upper >> shout).run('hi')

    assert podium_trace.tree() == snapshot("""\
podium run upper >> shout (status=ok usage.requests=0)
  podium step upper (status=ok)
  podium step shout (status=ok)\
""")
    [*_, run] = podium_trace.spans()
    assert 'podium_step' not in (run.attributes or {})


async def test_a_streamed_run_traces_as_a_run_does(podium_trace: TraceCapture):
    async with workflow.stream('my invoice shows a double charge') as events:
        async for _ in events:
            pass
    streamed = podium_trace.tree()
    podium_trace.clear()

    await workflow.run('my invoice shows a double charge')

    assert streamed == podium_trace.tree()


async def test_a_run_cancelled_by_its_consumer_ends_its_span_cancelled(podium_trace: TraceCapture):
    @podium.step
    async def wait(text: str) -> str:
        await anyio.sleep(10)
        return text

    async with (upper >> wait).named('slow').stream('x') as events:
        async for event in events:
            if event.type == 'step_started' and event.step == 'wait':
                break

    assert podium_trace.tree() == snapshot("""\
podium run slow (status=cancelled usage.requests=0)
  podium step upper (status=ok)
  podium step wait (status=cancelled)\
""")


async def test_a_run_of_several_top_steps_says_it_was_cancelled_or_paused(podium_trace: TraceCapture):
    @podium.step
    async def wait(text: str) -> str:
        await anyio.sleep(10)
        return text

    async with (upper >> wait).stream('x') as events:
        async for event in events:
            if event.type == 'step_started' and event.step == 'wait':
                break
    await (upper >> podium.approval(name='hold', input_type=str)).run('x')

    assert podium_trace.tree() == snapshot("""\
podium run upper >> wait (status=cancelled usage.requests=0)
  podium step upper (status=ok)
  podium step wait (status=cancelled)
podium run upper >> hold (status=paused usage.requests=0)
  podium step upper (status=ok)
  podium step hold (status=paused)\
""")


async def test_a_run_paused_at_an_approval_ends_its_span_paused(podium_trace: TraceCapture):
    hold = podium.approval(name='hold', input_type=str)

    result = await (upper >> hold >> podium.step(lambda review: review.value, name='after')).named('gate').run('x')

    assert result.status == 'paused'
    assert podium_trace.tree() == snapshot("""\
podium run gate (status=paused usage.requests=0)
  podium step upper (status=ok)
  podium step hold (status=paused)\
""")


async def test_tracing_off_records_no_spans(podium_trace: TraceCapture):
    podium.uninstrument()
    await workflow.run('the app crashes on startup')
    assert podium_trace.tree() == ''


def test_instrument_without_logfire_configured_says_in_one_line_what_to_call(monkeypatch: pytest.MonkeyPatch):
    import logfire

    monkeypatch.setattr(logfire.DEFAULT_LOGFIRE_INSTANCE.config, '_initialized', False)
    try:
        with pytest.warns(UserWarning, match=r'Logfire is not configured.*logfire\.configure\(send_to_logfire=False\)'):
            podium.instrument(agents=False)
    finally:
        podium.uninstrument()
