from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx2
import pytest
from openai import AsyncOpenAI
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ContentFilterError,
    IncompleteToolCall,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
)
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from podium.testing._fault_server import JSON, Behaviour, ErrorResponse, Fault, FaultServer, Reply, ToolCall

pytestmark = pytest.mark.anyio


class City(BaseModel):
    name: str
    population: int


PARIS = {'name': 'Paris', 'population': 2_100_000}


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
async def model(server: FaultServer) -> AsyncIterator[OpenAIChatModel]:
    model = server.openai_model()
    async with model.client:
        yield model


async def run(agent: Agent[None, Any], *, stream: bool) -> Any:
    if not stream:
        return (await agent.run('question')).output
    async with agent.run_stream('question') as result:
        return await result.get_output()


# Lifecycle


def test_start_and_stop_are_fast() -> None:
    started = time.monotonic()
    server = FaultServer().start()
    assert server.base_url.startswith('http://127.0.0.1:')
    server.stop()
    assert time.monotonic() - started < 0.5
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match='not running'):
        server.base_url  # noqa: B018


def test_restart_and_double_start() -> None:
    with FaultServer() as server, pytest.raises(RuntimeError, match='already running'):
        server.start()
    with server:
        response = httpx2.post(f'{server.base_url}/chat/completions', json={'model': 'gpt-4o', 'messages': []})
        assert response.status_code == 200


async def test_async_context_manager() -> None:
    async with FaultServer(default=Reply.text('from async')) as server:
        model = server.openai_model()
        async with model.client:
            assert (await Agent(model).run('hi')).output == 'from async'


async def test_stop_interrupts_a_stalled_handler() -> None:
    arrived = threading.Event()

    def stall(body: JSON) -> Behaviour:
        arrived.set()
        return Fault.stall(30)

    server = FaultServer(default=stall).start()
    errors: list[Exception] = []

    async def call() -> None:
        async with httpx2.AsyncClient(timeout=10) as http:
            try:
                await http.post(f'{server.base_url}/chat/completions', json={'messages': []})
            except httpx2.HTTPError as e:
                errors.append(e)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        assert await anyio.to_thread.run_sync(arrived.wait, 2)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 0.5
    assert [type(e) for e in errors] == [httpx2.RemoteProtocolError]


# Normal replies through pydantic-ai


async def test_text_reply(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Reply(content='Hello!', prompt_tokens=12, completion_tokens=3))
    result = await Agent(model).run('hi')
    assert result.output == 'Hello!'
    assert (result.usage.input_tokens, result.usage.output_tokens) == (12, 3)
    assert result.response.provider_response_id is not None


@pytest.mark.parametrize('stream', [False, True])
async def test_tool_call_reply_becomes_typed_output(server: FaultServer, model: OpenAIChatModel, stream: bool) -> None:
    server.push(Reply.tool_call('final_result', PARIS))
    assert await run(Agent(model, output_type=City), stream=stream) == City(**PARIS)
    [request] = server.requests
    assert request.stream is stream
    assert [tool['function']['name'] for tool in request.body['tools']] == ['final_result']


async def test_streamed_text_arrives_in_deltas(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Reply.text('a reply long enough to need several deltas'))
    async with Agent(model).run_stream('hi') as result:
        deltas = [delta async for delta in result.stream_text(delta=True, debounce_by=None)]
    assert len(deltas) > 1
    assert ''.join(deltas) == 'a reply long enough to need several deltas'
    assert result.usage.output_tokens == 5
    assert server.requests[0].body['stream_options'] == {'include_usage': True}


async def test_default_can_script_per_prompt(server: FaultServer, model: OpenAIChatModel) -> None:
    def echo(body: JSON) -> Behaviour:
        return Reply.text(body['messages'][-1]['content'].upper())

    server.default = echo
    server.push(Reply.text('queued first'))
    agent = Agent(model)
    assert (await agent.run('hello')).output == 'queued first'
    assert (await agent.run('hello')).output == 'HELLO'


# Wire format


async def test_sse_stream_shape(server: FaultServer) -> None:
    server.push(Reply(content='Hi there', tool_calls=(ToolCall('lookup', '{"q": "weather"}'),), prompt_tokens=7))
    body = {'model': 'gpt-4o-mini', 'messages': [], 'stream': True, 'stream_options': {'include_usage': True}}
    async with httpx2.AsyncClient() as http:
        response = await http.post(f'{server.base_url}/chat/completions', json=body)
    assert response.headers['content-type'].startswith('text/event-stream')
    assert response.headers['x-request-id'] == server.requests[0].request_id
    events = [line.removeprefix('data: ') for line in response.text.split('\n\n') if line]
    assert events[-1] == '[DONE]'
    chunks = [json.loads(event) for event in events[:-1]]
    assert {chunk['object'] for chunk in chunks} == {'chat.completion.chunk'}
    assert {chunk['model'] for chunk in chunks} == {'gpt-4o-mini'}
    assert len({chunk['id'] for chunk in chunks}) == 1
    deltas = [chunk['choices'][0]['delta'] for chunk in chunks if chunk['choices']]
    assert deltas[0]['role'] == 'assistant'
    assert ''.join(delta.get('content') or '' for delta in deltas) == 'Hi there'
    call_deltas = [call for delta in deltas for call in delta.get('tool_calls', [])]
    assert call_deltas[0]['function']['name'] == 'lookup'
    assert ''.join(call['function']['arguments'] for call in call_deltas) == '{"q": "weather"}'
    assert [chunk['choices'][0]['finish_reason'] for chunk in chunks[:-1]][-1] == 'tool_calls'
    assert chunks[-1]['choices'] == []
    assert chunks[-1]['usage'] == {'prompt_tokens': 7, 'completion_tokens': 5, 'total_tokens': 12}


async def test_error_body_and_headers(server: FaultServer) -> None:
    server.push(Fault.rate_limit(retry_after=2, retry_after_ms=1500))
    async with httpx2.AsyncClient() as http:
        response = await http.post(f'{server.base_url}/chat/completions', json={'messages': []})
    assert response.status_code == 429
    assert response.json() == {
        'error': {
            'message': 'Rate limit reached for requests. Please try again later.',
            'type': 'requests',
            'param': None,
            'code': 'rate_limit_exceeded',
        }
    }
    assert response.headers['retry-after'] == '2'
    assert response.headers['retry-after-ms'] == '1500'
    assert response.headers['x-request-id'].startswith('req_')


async def test_an_error_body_can_be_sent_as_given(server: FaultServer, model: OpenAIChatModel) -> None:
    body = {'error': {'message': 'Bad key.', 'type': 'auth', 'code': 'invalid_api_key'}, 'echo': {'x-api-key': 'k'}}
    server.push(ErrorResponse(401, 'unused', 'unused', body=body))
    async with httpx2.AsyncClient() as http:
        response = await http.post(f'{server.base_url}/chat/completions', json={'messages': []})
    assert (response.status_code, response.json()) == (401, body)

    server.push(ErrorResponse(401, 'unused', 'unused', body=body))
    with pytest.raises(ModelHTTPError) as raised:
        await Agent(model).run('hi')
    assert (raised.value.status_code, raised.value.body) == (401, body['error'])


async def test_unroutable_requests_are_answered_and_logged(server: FaultServer) -> None:
    async with httpx2.AsyncClient() as http:
        missing = await http.post(f'{server.base_url}/images/generations', json={})
        garbled = await http.post(f'{server.base_url}/chat/completions', content=b'{not json')
    assert missing.status_code == 404
    assert missing.json()['error']['message'] == 'Invalid URL (POST /v1/images/generations)'
    assert garbled.status_code == 400
    behaviours = [request.behaviour for request in server.requests]
    assert [behaviour.status for behaviour in behaviours if isinstance(behaviour, ErrorResponse)] == [404, 400]
    assert server.requests[1].body is None


# Request log


async def test_request_log(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Fault.server_error(), Reply.text('second'))
    agent = Agent(model)
    with pytest.raises(ModelServerError):
        await agent.run('first prompt')
    assert (await agent.run('second prompt')).output == 'second'

    first, second = server.requests
    assert server.hits == 2
    assert (first.index, second.index) == (0, 1)
    assert first.path == '/v1/chat/completions'
    assert first.behaviour == Fault.server_error()
    assert second.behaviour == Reply.text('second')
    assert first.body['messages'][-1] == {'role': 'user', 'content': 'first prompt'}
    assert first.headers['authorization'] == '[redacted]'
    assert 'test-key' not in repr(first)
    assert first.received_at <= second.received_at <= time.monotonic()

    server.push(Fault.auth())
    server.default = Reply.text('changed')
    server.reset()
    assert server.requests == ()
    assert (await agent.run('after reset')).output == 'ok'


# HTTP faults: the pydantic-ai exception each produces, with SDK retries off


HTTP_FAULTS = [
    pytest.param(Fault.rate_limit(), ModelRateLimitError, 429, 'rate_limit_exceeded', id='rate_limit'),
    pytest.param(Fault.quota(), ModelQuotaExceededError, 429, 'insufficient_quota', id='quota'),
    pytest.param(Fault.server_error(), ModelServerError, 500, None, id='server_error'),
    pytest.param(Fault.unavailable(), ModelUnavailableError, 503, 'service_unavailable', id='unavailable'),
    pytest.param(Fault.overloaded(), ModelOverloadedError, 529, None, id='overloaded'),
    pytest.param(
        Fault.context_length(), ModelContextWindowExceededError, 400, 'context_length_exceeded', id='context_length'
    ),
    pytest.param(Fault.auth(), ModelAuthenticationError, 401, 'invalid_api_key', id='auth'),
    pytest.param(
        Fault.forbidden(), ModelAuthenticationError, 403, 'unsupported_country_region_territory', id='forbidden'
    ),
]


@pytest.mark.parametrize('stream', [False, True])
@pytest.mark.parametrize(('fault', 'error_class', 'status', 'code'), HTTP_FAULTS)
async def test_http_fault_maps_to_error_category(
    server: FaultServer,
    model: OpenAIChatModel,
    fault: Behaviour,
    error_class: type[ModelAPIError],
    status: int,
    code: str | None,
    stream: bool,
) -> None:
    server.push(fault)
    with pytest.raises(error_class) as raised:
        await run(Agent(model), stream=stream)
    error = raised.value
    assert isinstance(error, ModelHTTPError)
    assert error.status_code == status
    assert error.provider_error_code == code
    assert error.in_stream is False
    assert error.headers is not None
    assert error.headers['x-request-id'] == server.requests[0].request_id
    assert server.hits == 1


@pytest.mark.parametrize(
    ('fault', 'retry_after'),
    [
        pytest.param(Fault.rate_limit(retry_after=2), 2.0, id='retry-after'),
        pytest.param(Fault.rate_limit(retry_after=None, retry_after_ms=1500), 1.5, id='retry-after-ms'),
        pytest.param(Fault.rate_limit(retry_after=3, retry_after_ms=250), 0.25, id='ms-wins'),
        pytest.param(Fault.rate_limit(retry_after=0.5), None, id='fractional-retry-after-ignored'),
    ],
)
async def test_rate_limit_retry_after_reaches_the_error(
    server: FaultServer, model: OpenAIChatModel, fault: Behaviour, retry_after: float | None
) -> None:
    server.push(fault)
    with pytest.raises(ModelRateLimitError) as raised:
        await Agent(model).run('hi')
    assert raised.value.retry_after == retry_after


async def test_should_retry_header_is_exposed_and_obeyed_by_the_sdk(server: FaultServer) -> None:
    server.default = Fault.server_error(should_retry=False)
    async with AsyncOpenAI(base_url=server.base_url, api_key='test-key') as client:  # SDK default: 2 retries
        agent = Agent(OpenAIChatModel('gpt-4o', provider=OpenAIProvider(openai_client=client)))
        with pytest.raises(ModelServerError) as raised:
            await agent.run('hi')
    assert isinstance(raised.value, ModelHTTPError)
    assert raised.value.provider_retry_hint is False
    assert server.hits == 1


async def test_sdk_retries_rate_limits_honouring_retry_after_ms(server: FaultServer) -> None:
    server.push(*[Fault.rate_limit(retry_after=None, retry_after_ms=10)] * 2)
    async with AsyncOpenAI(base_url=server.base_url, api_key='test-key') as client:  # SDK default: 2 retries
        agent = Agent(OpenAIChatModel('gpt-4o', provider=OpenAIProvider(openai_client=client)))
        assert (await agent.run('hi')).output == 'ok'
    assert [request.headers['x-stainless-retry-count'] for request in server.requests] == ['0', '1', '2']


async def test_sdk_retries_quota_errors_too(server: FaultServer, model: OpenAIChatModel) -> None:
    server.default = Fault.quota()
    with pytest.raises(ModelQuotaExceededError):
        await Agent(model).run('hi', model_settings={'max_retries': 1})
    assert server.hits == 2


# Transport faults


@pytest.mark.parametrize('stream', [False, True])
async def test_reset_mid_body_is_a_connection_error(server: FaultServer, model: OpenAIChatModel, stream: bool) -> None:
    server.push(Fault.reset_mid_body())
    with pytest.raises(ModelConnectionError) as raised:
        await run(Agent(model), stream=stream)
    assert raised.value.phase == 'read'


async def test_reset_arrives_after_headers(server: FaultServer) -> None:
    server.push(Fault.reset_mid_body())
    url = f'{server.base_url}/chat/completions'
    async with httpx2.AsyncClient() as http, http.stream('POST', url, json={'messages': []}) as response:
        assert response.status_code == 200
        with pytest.raises(httpx2.ReadError):
            await response.aread()


async def test_truncated_json_body_is_a_connection_error(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Fault.truncated())
    with pytest.raises(ModelConnectionError):
        await Agent(model).run('hi')


async def test_truncated_stream_is_accepted_as_complete(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Fault.truncated('The answer is'))
    async with Agent(model).run_stream('hi') as result:
        assert await result.get_output() == 'The answer is'
    assert result.response.finish_reason == 'stop'


async def test_stream_error_event(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Fault.stream_error())
    with pytest.raises(ModelServerError) as raised:
        await run(Agent(model), stream=True)
    assert isinstance(raised.value, ModelHTTPError)
    assert raised.value.status_code == 500
    assert raised.value.in_stream is True


async def test_error_object_in_a_200_json_body_is_not_an_api_error(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Fault.stream_error())
    with pytest.raises(UnexpectedModelBehavior, match='Invalid response') as raised:
        await Agent(model).run('hi')
    assert not isinstance(raised.value, ModelAPIError)


@pytest.mark.parametrize('via', ['model_settings', 'client'])
async def test_stall_is_cut_by_the_client_timeout(server: FaultServer, via: str) -> None:
    server.push(Fault.stall(30))
    model = server.openai_model(timeout=0.2 if via == 'client' else None)
    async with model.client:
        started = time.monotonic()
        with pytest.raises(ModelTimeoutError):
            await Agent(model).run('hi', model_settings={'timeout': 0.2} if via == 'model_settings' else None)
    assert 0.2 <= time.monotonic() - started < 1.5
    assert server.hits == 1


async def test_slow_reply_arrives_after_the_delay(server: FaultServer, model: OpenAIChatModel) -> None:
    server.push(Fault.slow(0.3, then=Reply.text('late')))
    started = time.monotonic()
    assert (await Agent(model).run('hi')).output == 'late'
    assert time.monotonic() - started >= 0.3


# Content faults: well-formed completions pydantic-ai has to reject

CONTENT_FAULTS = [
    pytest.param(Fault.malformed_json(), id='malformed_json'),
    pytest.param(Fault.schema_invalid({'name': 'Paris'}), id='schema_invalid'),
    pytest.param(Fault.unknown_tool(), id='unknown_tool'),
    pytest.param(Fault.empty(), id='empty'),
]


@pytest.mark.parametrize('fault', CONTENT_FAULTS)
async def test_content_fault_is_retried_with_feedback(
    server: FaultServer, model: OpenAIChatModel, fault: Behaviour
) -> None:
    server.push(fault, Reply.tool_call('final_result', PARIS))
    assert (await Agent(model, output_type=City).run('city?')).output == City(**PARIS)
    first, retry = server.requests
    assert len(retry.body['messages']) > len(first.body['messages'])


@pytest.mark.parametrize('fault', CONTENT_FAULTS)
async def test_persistent_content_fault_exhausts_output_retries(
    server: FaultServer, model: OpenAIChatModel, fault: Behaviour
) -> None:
    server.default = fault
    with pytest.raises(UnexpectedModelBehavior, match=r'(?i)exceeded max'):
        await Agent(model, output_type=City).run('city?')
    assert server.hits == 2


async def test_length_cut_tool_call_raises_incomplete_tool_call(server: FaultServer, model: OpenAIChatModel) -> None:
    server.default = Fault.length_cut()
    with pytest.raises(IncompleteToolCall):
        await Agent(model, output_type=City).run('city?')
    assert server.hits == 2


@pytest.mark.parametrize('stream', [False, True])
@pytest.mark.parametrize(
    ('fault', 'message'),
    [
        pytest.param(Fault.refusal('No.'), "Refusal: 'No.'", id='refusal'),
        pytest.param(Fault.content_filter(), "Finish reason: 'content_filter'", id='content_filter'),
    ],
)
async def test_filtered_reply_raises_content_filter_error(
    server: FaultServer, model: OpenAIChatModel, fault: Behaviour, message: str, stream: bool
) -> None:
    server.push(fault)
    with pytest.raises(ContentFilterError, match=message):
        await run(Agent(model, output_type=City), stream=stream)
    assert server.hits == 1


async def test_speaks_the_anthropic_messages_protocol():
    class City(BaseModel):
        name: str

    with FaultServer(default=Reply.tool_call('final_result', {'name': 'Paris'})) as server:
        result = await Agent(server.anthropic_model(), output_type=City).run('capital?')
        server.default = Fault.overloaded()
        with pytest.raises(ModelHTTPError) as raised:
            await Agent(server.anthropic_model()).run('hi')
        paths = [r.path for r in server.requests]
    assert result.output == City(name='Paris')
    assert (raised.value.status_code, raised.value.body) == (
        529,
        {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}},
    )
    assert paths == ['/v1/messages', '/v1/messages']


@pytest.mark.parametrize(
    ('fault', 'content_type', 'body'),
    [
        (Fault.html_page(), 'text/html; charset=utf-8', b'<html>'),
        (Fault.null_body(), 'application/json', b'null'),
        (Fault.invalid_json(), 'application/json', b'{"id": "resp", "choices": [}'),
    ],
)
def test_sends_200s_no_client_can_read(fault: Behaviour, content_type: str, body: bytes):
    with FaultServer(default=fault) as server:
        response = httpx2.post(f'{server.base_url}/chat/completions', json={'model': 'm', 'messages': []})
    assert (response.status_code, response.headers['content-type']) == (200, content_type)
    assert response.content.startswith(body)


def test_empty_choices_is_a_complete_envelope_around_nothing():
    with FaultServer(default=Fault.empty_choices()) as server:
        openai = httpx2.post(f'{server.base_url}/chat/completions', json={'model': 'm', 'messages': []}).json()
        anthropic = httpx2.post(f'{server.anthropic_base_url}/v1/messages', json={'model': 'm', 'messages': []}).json()
    assert (openai['object'], openai['choices']) == ('chat.completion', [])
    assert (anthropic['type'], anthropic['content']) == ('message', [])


async def test_embeddings_answer_each_text_with_a_vector_that_shares_its_words(server: FaultServer):
    model = server.openai_embedding_model()
    result = await model.embed(['the app crashes', 'the app crashes again', 'refund'], input_type='query')
    same, close, other = result.embeddings
    assert len(same) == 64
    assert sum(a * b for a, b in zip(same, close, strict=True)) > 0
    assert sum(a * b for a, b in zip(same, other, strict=True)) == 0
    async with AsyncOpenAI(base_url=server.base_url, api_key='test-key') as client:
        floats = await client.embeddings.create(input='the app crashes', model='m', encoding_format='float')
    assert floats.data[0].embedding == list(same)  # the SDK asks for base64 by default; both decode alike
    assert [r.path for r in server.requests] == ['/v1/embeddings', '/v1/embeddings']


async def test_embedding_faults_use_the_openai_error_shape(server: FaultServer):
    server.push(Fault.rate_limit(retry_after=3), Fault.empty_choices())
    model = server.openai_embedding_model()
    with pytest.raises(ModelHTTPError) as caught:
        await model.embed('hi', input_type='query')
    assert (caught.value.status_code, caught.value.retry_after) == (429, 3)
    with pytest.raises(ValueError, match='No embedding data'):  # the SDK reads `"data": []` as no answer
        await model.embed('hi', input_type='query')
