"""`POST /ag-ui` and `POST /vercel-ai`: a run as those protocols stream it, read back with their own types."""

from __future__ import annotations

import json
from typing import Any, Union

import pytest
from ag_ui.core import Event, EventType, RunAgentInput, UserMessage
from pydantic import TypeAdapter
from pydantic_ai.ui.vercel_ai import response_types as vercel
from serve_flows import SECRET, leaks, sse, talker, triage
from starlette.testclient import TestClient

from podium import Flow, RunHook
from podium.serve import app

pytestmark = pytest.mark.needs_extras  # starlette and the AG-UI types, from the serve extra

ag_ui_events: TypeAdapter[Any] = TypeAdapter(Event)
vercel_chunks: TypeAdapter[Any] = TypeAdapter(
    Union[  # noqa: UP007  # every chunk class of the protocol: each chunk's type names exactly one of them
        tuple(
            c
            for c in vars(vercel).values()
            if isinstance(c, type) and issubclass(c, vercel.BaseChunk) and c is not vercel.BaseChunk
        )
    ]
)


def ag_ui_request(text: str) -> dict[str, Any]:
    run_input = RunAgentInput(
        thread_id='thread-1',
        run_id='run-1',
        state=None,
        messages=[UserMessage(id='m1', role='user', content=text)],
        tools=[],
        context=[],
        forwarded_props=None,
    )
    return run_input.model_dump(mode='json', by_alias=True)


def vercel_request(text: str) -> dict[str, Any]:
    return {
        'trigger': 'submit-message',
        'id': 'chat-1',
        'messages': [{'id': 'm1', 'role': 'user', 'parts': [{'type': 'text', 'text': text}]}],
    }


def read_ag_ui(text: str) -> list[Any]:
    return [ag_ui_events.validate_json(data) for _, data in sse(text)]


def read_vercel(text: str) -> list[Any]:
    return [vercel_chunks.validate_json(data) for _, data in sse(text) if data != '[DONE]']


def test_ag_ui_streams_the_steps_the_events_and_the_output(desk: Any):
    response = TestClient(app(desk)).post('/ag-ui', json=ag_ui_request('my invoice shows a double charge'))
    assert response.status_code == 200
    events = read_ag_ui(response.text)
    types = [event.type for event in events]
    assert types[0] == EventType.RUN_STARTED
    assert (events[0].thread_id, events[0].run_id) == ('thread-1', 'run-1')
    assert types[-1] == EventType.RUN_FINISHED
    steps = [(e.type, e.step_name) for e in events if e.type in (EventType.STEP_STARTED, EventType.STEP_FINISHED)]
    assert steps[:3] == [  # secrets are masked before the desk and the injection guard start
        (EventType.STEP_STARTED, 'guarded(support_desk)'),
        (EventType.STEP_STARTED, 'guarded(support_desk)/secrets_guard'),
        (EventType.STEP_FINISHED, 'guarded(support_desk)/secrets_guard'),
    ]
    desk = [
        name
        for kind, name in steps
        if kind == EventType.STEP_STARTED and name.startswith('guarded(support_desk)/support_desk')
    ]
    assert desk[:3] == [
        'guarded(support_desk)/support_desk',
        'guarded(support_desk)/support_desk/billing',
        'guarded(support_desk)/support_desk/billing/billing_extract',
    ]
    assert (EventType.STEP_STARTED, 'guarded(support_desk)/injection_guard') in steps
    assert steps[-3:] == [
        (EventType.STEP_STARTED, 'guarded(support_desk)/refund_policy'),
        (EventType.STEP_FINISHED, 'guarded(support_desk)/refund_policy'),
        (EventType.STEP_FINISHED, 'guarded(support_desk)'),
    ]
    custom = [e.value for e in events if e.type == EventType.CUSTOM and e.name == 'podium.event']
    assert custom[0]['type'] == 'run_started'
    assert custom[-1]['type'] == 'run_finished'
    guards = {
        v['record']['name']: v['record']['route']
        for v in custom
        if v['type'] == 'step_finished' and v['record']['kind'] == 'guard'
    }
    assert guards == {'secrets_guard': 'pass', 'injection_guard': 'pass', 'refund_policy': 'pass'}
    # the agents' structured output streams as the protocol's own tool calls: the route, the facts, the reply
    calls = [e for e in events if e.type == EventType.TOOL_CALL_START]
    assert {e.tool_call_name for e in calls} == {'final_result'}
    args = [
        json.loads(''.join(e.delta for e in events if e.type == EventType.TOOL_CALL_ARGS and e.tool_call_id == call))
        for call in (e.tool_call_id for e in calls)
    ]
    assert args[0] == {'route': 'billing', 'confidence': 0.92, 'reason': 'mentions billing keywords'}
    assert args[1]['kind'] == 'double_charge'
    text = ''.join(e.delta for e in events if e.type == EventType.TEXT_MESSAGE_CONTENT)
    assert json.loads(text) == {
        'team': 'billing',
        'text': 'A billing specialist will reverse the duplicate charge today.',
        'escalated': True,
        'refund': None,
    }
    assert args[-1] == json.loads(text)


def test_ag_ui_passes_an_agents_own_text_through():
    events = read_ag_ui(TestClient(app(talker)).post('/ag-ui', json=ag_ui_request('Ann')).text)
    messages: dict[str, str] = {}
    for event in events:
        if event.type == EventType.TEXT_MESSAGE_CONTENT:
            messages[event.message_id] = messages.get(event.message_id, '') + event.delta
    assert list(messages.values()) == ['Hello', 'Hello, Ann']  # the agent's streamed text, then the output
    custom = [e.value['type'] for e in events if e.type == EventType.CUSTOM]
    assert {'output_delta', 'output_discarded'} <= set(custom)
    assert 'agent_event' not in custom  # those are the protocol's own text events


def test_ag_ui_reports_a_failed_run_as_run_error_redacted():
    response = TestClient(app(leaks)).post('/ag-ui', json=ag_ui_request('hi'))
    events = read_ag_ui(response.text)
    assert events[-1].type == EventType.RUN_ERROR
    assert '[REDACTED]' in events[-1].message
    assert SECRET not in response.text


def test_ag_ui_runs_a_typed_workflow_on_json_in_the_message():
    client = TestClient(app(triage))
    events = read_ag_ui(client.post('/ag-ui', json=ag_ui_request('{"text": "down", "priority": 3}')).text)
    text = ''.join(e.delta for e in events if e.type == EventType.TEXT_MESSAGE_CONTENT)
    assert json.loads(text) == {'text': 'DOWN', 'urgent': True}
    refused = client.post('/ag-ui', json=ag_ui_request('{"text": "down"}'))
    assert refused.status_code == 422
    assert refused.json()['detail'][0]['loc'] == ['priority']


def test_ag_ui_refuses_a_body_that_is_not_a_run_input():
    response = TestClient(app(talker)).post('/ag-ui', json={'messages': 'no'})
    assert response.status_code == 422
    assert {d['loc'][0] for d in response.json()['detail']} >= {'threadId', 'runId'}


def test_ag_ui_needs_a_user_message():
    body = ag_ui_request('x')
    body['messages'] = []
    response = TestClient(app(talker)).post('/ag-ui', json=body)
    assert response.status_code == 422
    assert response.json()['message'] == 'the conversation has no user message to run the workflow on'


def test_vercel_ai_streams_the_events_as_data_parts_and_the_output_as_text(desk: Any):
    response = TestClient(app(desk)).post('/vercel-ai', json=vercel_request('I want to buy 20 more seats'))
    assert response.status_code == 200
    assert response.headers['x-vercel-ai-ui-message-stream'] == 'v1'
    assert sse(response.text)[-1][1] == '[DONE]'
    chunks = read_vercel(response.text)
    assert isinstance(chunks[0], vercel.StartChunk)
    data = [c.data for c in chunks if isinstance(c, vercel.DataChunk)]
    assert {c.type for c in chunks if isinstance(c, vercel.DataChunk)} == {'data-podium.event'}
    assert data[0]['type'] == 'run_started'
    finished = [d['record'] for d in data if d['type'] == 'step_finished']
    assert [r['route'] for r in finished if r['name'] == 'support_desk'] == ['sales']
    assert {r['name']: r['route'] for r in finished if r['kind'] == 'guard'} == {
        'secrets_guard': 'pass',
        'injection_guard': 'pass',
        'refund_policy': 'pass',
    }
    # the agents' structured output streams as the protocol's own tool-input chunks
    tools = [c for c in chunks if isinstance(c, vercel.ToolInputAvailableChunk)]
    assert {c.tool_name for c in tools} == {'final_result'}
    assert tools[0].input['route'] == 'sales'
    text = ''.join(c.delta for c in chunks if isinstance(c, vercel.TextDeltaChunk))
    assert json.loads(text)['team'] == 'sales'
    assert tools[-1].input == json.loads(text)
    assert isinstance(chunks[-1], vercel.FinishChunk)


def test_vercel_ai_reports_a_failed_run_as_an_error_chunk():
    response = TestClient(app(leaks)).post('/vercel-ai', json=vercel_request('hi'))
    errors = [c for c in read_vercel(response.text) if isinstance(c, vercel.ErrorChunk)]
    assert len(errors) == 1
    assert '[REDACTED]' in errors[0].error_text
    assert SECRET not in response.text


class _BrokenHook(RunHook):
    def run_started(self, flow: Flow[Any]) -> None:
        raise ValueError(f'hook failed: api_key={SECRET}')


def test_an_error_outside_the_steps_still_ends_the_protocol_stream_redacted():
    response = TestClient(app(talker, hooks=[_BrokenHook()])).post('/ag-ui', json=ag_ui_request('hi'))
    events = read_ag_ui(response.text)
    assert events[-1].type == EventType.RUN_ERROR
    assert events[-1].message.startswith('ValueError: hook failed')
    assert SECRET not in response.text


def _chatty(words: list[str]) -> Any:
    """A text agent whose model streams `words` one by one, yielding to the event loop between them."""
    import anyio
    from pydantic_ai import Agent
    from pydantic_ai.models.function import FunctionModel

    async def stream(messages: Any, info: Any) -> Any:
        for word in words:
            await anyio.sleep(0.001)
            yield word

    return Agent(FunctionModel(stream_function=stream), name=words[0].strip())


def test_parallel_agents_reach_a_chat_frontend_one_message_at_a_time():
    import podium

    left, right = _chatty(['left ', 'one ', 'two ', 'three']), _chatty(['right ', 'uno ', 'dos ', 'tres'])
    workflow = podium.parallel(podium.agent(left), podium.agent(right), name='both')
    response = TestClient(app(workflow)).post('/ag-ui', json=ag_ui_request('go'))
    assert response.status_code == 200
    events = read_ag_ui(response.text)
    messages: list[tuple[str, str]] = []  # (message id, its text), in the order they were sent
    open_message: str | None = None
    for event in events:
        if event.type == EventType.TEXT_MESSAGE_START:
            assert open_message is None, 'a message started before the one before it ended'
            open_message = event.message_id
            messages.append((event.message_id, ''))
        elif event.type == EventType.TEXT_MESSAGE_CONTENT:
            assert event.message_id == open_message
            messages[-1] = (open_message, messages[-1][1] + event.delta)
        elif event.type == EventType.TEXT_MESSAGE_END:
            open_message = None
    assert [text for _, text in messages][:2] in (
        ['left one two three', 'right uno dos tres'],
        ['right uno dos tres', 'left one two three'],
    )
    steps = [(e.type, e.step_name) for e in events if e.type in (EventType.STEP_STARTED, EventType.STEP_FINISHED)]
    assert steps[-1] == (EventType.STEP_FINISHED, 'both')
    assert events[-1].type == EventType.RUN_FINISHED


def test_a_chat_message_reaches_a_workflow_of_unknown_input_type_as_json_or_else_as_text():
    from podium import step

    @step
    def echo(value):  # type: ignore[no-untyped-def]  # no annotation: the input type is unknown
        return value

    client = TestClient(app(echo))
    outputs = []
    for text in ('hello there', '{"amount": 30}'):
        events = read_ag_ui(client.post('/ag-ui', json=ag_ui_request(text)).text)
        outputs.append(''.join(e.delta for e in events if e.type == EventType.TEXT_MESSAGE_CONTENT))
    assert outputs == ['hello there', '{\n  "amount": 30\n}']
