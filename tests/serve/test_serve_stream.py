"""`POST /stream`: the run's events as server-sent events, and a client that leaves cancels its run."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx
import pytest
from serve_flows import SECRET, Blocked, leaks, serving, sse, talker
from starlette.testclient import TestClient

from podium import Flow, RunHook
from podium.events import run_event_adapter
from podium.serve import app

pytestmark = pytest.mark.needs_extras  # starlette, uvicorn and the AG-UI types, from the serve extra


def test_stream_sends_every_event_typed_and_ends_with_run_finished(desk: Any):
    response = TestClient(app(desk)).post('/stream', json='the app crashes at startup')
    assert response.status_code == 200
    assert response.headers['content-type'].startswith('text/event-stream')
    events = sse(response.text)
    parsed = [run_event_adapter.validate_json(data) for _, data in events]
    assert [kind for kind, _ in events] == [event.type for event in parsed]
    assert events[0][0] == 'run_started'
    assert events[-1][0] == 'run_finished'
    guarded, desk = ('guarded(support_desk)',), ('guarded(support_desk)', 'support_desk')
    steps = [(e.type, e.path) for e in parsed if e.type in ('step_started', 'step_finished')]
    assert steps[:3] == [  # secrets are masked before the desk and the injection guard start
        ('step_started', guarded),
        ('step_started', (*guarded, 'secrets_guard')),
        ('step_finished', (*guarded, 'secrets_guard')),
    ]
    assert steps[-3:] == [
        ('step_started', (*guarded, 'refund_policy')),
        ('step_finished', (*guarded, 'refund_policy')),
        ('step_finished', guarded),
    ]
    checked = steps.index(('step_started', (*guarded, 'refund_policy')))  # once the desk and the input guards end
    assert steps.index(('step_finished', desk)) < checked
    assert steps.index(('step_finished', (*guarded, 'injection_guard'))) < checked
    started = [path for kind, path in steps if kind == 'step_started']
    assert [path for path in started if path[:2] == desk][:3] == [desk, (*desk, 'tech'), (*desk, 'tech', 'tech_triage')]
    assert {(*guarded, 'injection_guard'), (*guarded, 'injection_guard', 'injection_guard_check')} <= set(started)
    # the agents' structured output streams as Pydantic-AI's own tool-call events
    calls = [e for e in parsed if e.type == 'agent_event' and e.event.event_kind == 'output_tool_call']
    assert [e.path[-1] for e in calls] == ['support_desk', 'tech_triage', 'tech_escalate']
    finished = parsed[-1]
    assert finished.type == 'run_finished'
    assert finished.result.output['team'] == 'tech'
    assert calls[-1].event.part.args_as_dict() == finished.result.output


def test_stream_forwards_what_steps_emit():
    events = sse(TestClient(app(talker)).post('/stream', json='Ann').text)
    kinds = [kind for kind, _ in events]
    assert kinds == [
        'run_started',
        'step_started',
        'output_delta',
        'output_discarded',
        'agent_event',
        'agent_event',
        'agent_event',
        'step_finished',
        'run_finished',
    ]


def test_a_failed_run_ends_with_run_failed_redacted():
    response = TestClient(app(leaks)).post('/stream', json='hi')
    events = sse(response.text)
    assert events[-1][0] == 'run_failed'
    failed = run_event_adapter.validate_json(events[-1][1])
    assert failed.type == 'run_failed'
    assert failed.error == 'StepFailed'
    assert SECRET not in response.text


def test_a_bad_body_is_refused_before_the_stream_starts():
    response = TestClient(app(leaks)).post('/stream', json={'not': 'text'})
    assert response.status_code == 422


class _Outcome(RunHook):
    """What the run's hooks see when it ends."""

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.records: list[tuple[str, str]] = []
        self.ended = threading.Event()

    def run_finished(self, flow: Flow[Any], error: BaseException | None) -> None:
        self.error = error
        self.records = [(record.name, record.status) for record in flow.records]
        self.ended.set()


@pytest.mark.anyio
async def test_a_client_that_disconnects_cancels_its_run():
    """At the ASGI level, under spec 2.4, where Starlette alone would wait for a failed write to notice."""
    blocked, outcome = Blocked(), _Outcome()
    served = app(blocked.workflow, hooks=[outcome])
    requested = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {'type': 'http.request', 'body': b'"hi"', 'more_body': False}
        await blocked.started.wait()
        return {'type': 'http.disconnect'}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        'type': 'http',
        'asgi': {'version': '3.0', 'spec_version': '2.4'},
        'http_version': '1.1',
        'method': 'POST',
        'scheme': 'http',
        'path': '/stream',
        'raw_path': b'/stream',
        'root_path': '',
        'query_string': b'',
        'headers': [(b'content-type', b'application/json')],
        'client': ('127.0.0.1', 1),
        'server': ('127.0.0.1', 80),
    }
    with anyio.fail_after(10):
        await served(scope, receive, send)
    assert outcome.ended.is_set()
    assert isinstance(outcome.error, anyio.get_cancelled_exc_class())
    assert outcome.records == [('waits', 'cancelled')]
    assert sent[0]['status'] == 200


def test_closing_the_connection_to_a_real_server_cancels_the_run():
    blocked, outcome = Blocked(), _Outcome()
    with serving(app(blocked.workflow, hooks=[outcome])) as url, httpx.Client(base_url=url, timeout=10) as client:
        with client.stream('POST', '/stream', json='hi') as response:
            assert next(response.iter_lines()) == 'event: run_started'
        assert outcome.ended.wait(10), 'the run went on after its client left'
    assert outcome.records == [('waits', 'cancelled')]
