from __future__ import annotations

import sys
from pathlib import Path

import pytest
from inline_snapshot import snapshot
from opentelemetry.trace import StatusCode

import podium
from podium.testing import TraceCapture

sys.path.insert(0, str(Path(__file__).parents[2] / 'examples'))
from support_desk import workflow

pytestmark = pytest.mark.anyio


async def test_a_support_desk_run_traces_run_step_and_agent_spans(podium_trace: TraceCapture):
    await workflow.run('my invoice shows a double charge')

    assert podium_trace.tree() == snapshot("""\
podium run guarded(support_desk) (status=ok usage.requests=4)
  podium step guarded(support_desk) (status=ok)
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


async def test_a_failed_step_is_an_error_span_and_the_run_span_says_failed(podium_trace: TraceCapture):
    @podium.step
    def explode(text: str) -> str:
        raise ValueError('nope')

    with pytest.raises(podium.StepFailed):
        await explode.run('x')

    assert podium_trace.tree() == snapshot("""\
podium run explode (status=failed usage.requests=0)
  podium step explode (status=failed)\
""")
    spans = {span.name: span for span in podium_trace.exporter.get_finished_spans()}
    # The step span records what the step raised; the run span, the `WorkflowError` the run raised.
    for name, error in (('podium step', 'ValueError'), ('podium run', 'StepFailed')):
        span = spans[name]
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})['logfire.level_num'] == 17  # Logfire's "error" level
        [event] = span.events
        assert str((event.attributes or {})['exception.type']).endswith(error)


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
