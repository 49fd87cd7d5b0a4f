"""The W2 model server: a separate process speaking just enough OpenAI Chat Completions and Anthropic Messages.

A raw asyncio HTTP/1.1 server with keep-alive, so it costs a fraction of what any client spends per request and
is never the bottleneck. Every request is answered after the configured delay with one call of the request's
first tool (or, for a request without tools, a message whose text is the answer) carrying the same fixed JSON as
W1's fake models, and W1's fixed usage; an OpenAI request with `"stream": true` gets the same answer as server-sent
events, the tool call's arguments in `STREAM_CHUNKS` pieces, then the finish reason and the usage. Which answer is
picked from the output schema's field names in the request, and the router's route from the last user message, as
W1's fake models do.

    python -m bench._w2.server [--port 0] [--delay-ms 0]

It prints ``port <n>`` once listening. ``GET /control?delay_ms=<ms>`` sets the delay and answers the server's
counters as JSON: connections accepted (not counting control connections), requests served, and the server
process's own CPU seconds, so a client can report the server's cost separately from its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench._w1.workload import FAKE_USAGE, STEP_JSON, route_for, router_json

# The output type's field names -> the fixed JSON for the route.
_BY_FIELDS = {
    frozenset({'route', 'confidence'}): lambda prompt: router_json(prompt),
    frozenset({'summary', 'entities'}): lambda prompt: STEP_JSON[route_for(prompt)][0],
    frozenset({'steps', 'priority'}): lambda prompt: STEP_JSON[route_for(prompt)][1],
    frozenset({'text', 'follow_up'}): lambda prompt: STEP_JSON[route_for(prompt)][2],
}


STREAM_CHUNKS = 4
"""Pieces a streamed answer's arguments (or text) come in."""


class _Stats:
    connections = 0
    requests = 0
    delay = 0.0


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return ''.join(block.get('text', '') for block in content if isinstance(block, dict))


def answer(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The response body for one request to `path`."""
    anthropic = path.endswith('/messages')
    messages = body['messages']
    prompt = next(_text(m['content']) for m in reversed(messages) if m['role'] == 'user')
    tools = body.get('tools') or []
    if tools:
        tool = tools[0]
        name = tool['name'] if anthropic else tool['function']['name']
        schema = tool['input_schema'] if anthropic else tool['function']['parameters']
    else:
        name, schema = None, body['response_format']['json_schema']['schema']
    text = _BY_FIELDS[frozenset(schema['properties'])](prompt)
    if anthropic:
        return {
            'id': 'msg_w2',
            'type': 'message',
            'role': 'assistant',
            'model': body['model'],
            'content': [{'type': 'tool_use', 'id': 'toolu_w2', 'name': name, 'input': json.loads(text)}],
            'stop_reason': 'tool_use',
            'stop_sequence': None,
            'usage': FAKE_USAGE,
        }
    if name is None:
        message: dict[str, Any] = {'role': 'assistant', 'content': text}
        finish = 'stop'
    else:
        call = {'id': 'call_w2', 'type': 'function', 'function': {'name': name, 'arguments': text}}
        message, finish = {'role': 'assistant', 'content': None, 'tool_calls': [call]}, 'tool_calls'
    return {
        'id': 'chatcmpl-w2',
        'object': 'chat.completion',
        'created': 0,
        'model': body['model'],
        'choices': [{'index': 0, 'message': message, 'finish_reason': finish}],
        'usage': {
            'prompt_tokens': FAKE_USAGE['input_tokens'],
            'completion_tokens': FAKE_USAGE['output_tokens'],
            'total_tokens': sum(FAKE_USAGE.values()),
        },
    }


def stream_events(payload: dict[str, Any]) -> bytes:
    """An OpenAI chat completion as the server-sent events of a streamed one (what `stream: true` asks for)."""
    choice = payload['choices'][0]
    message = choice['message']
    calls = message.get('tool_calls')
    text = calls[0]['function']['arguments'] if calls else message['content']
    size = -(-len(text) // STREAM_CHUNKS)
    deltas: list[dict[str, Any]] = []
    for i in range(0, len(text), size):
        piece = text[i : i + size]
        if not calls:
            deltas.append({'role': 'assistant', 'content': piece} if i == 0 else {'content': piece})
        elif i == 0:
            call = {'index': 0, 'id': calls[0]['id'], 'type': 'function'}
            call['function'] = {'name': calls[0]['function']['name'], 'arguments': piece}
            deltas.append({'role': 'assistant', 'content': None, 'tool_calls': [call]})
        else:
            deltas.append({'tool_calls': [{'index': 0, 'function': {'arguments': piece}}]})
    head = {'id': payload['id'], 'object': 'chat.completion.chunk', 'created': 0, 'model': payload['model']}
    chunks = [{**head, 'choices': [{'index': 0, 'delta': delta, 'finish_reason': None}]} for delta in deltas]
    chunks.append({**head, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': choice['finish_reason']}]})
    chunks.append({**head, 'choices': [], 'usage': payload['usage']})
    return b''.join(b'data: ' + json.dumps(chunk).encode() + b'\n\n' for chunk in chunks) + b'data: [DONE]\n\n'


def control(target: str) -> dict[str, Any]:
    query = parse_qs(urlsplit(target).query)
    if 'delay_ms' in query:
        _Stats.delay = float(query['delay_ms'][0]) / 1000
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        'connections': _Stats.connections,
        'requests': _Stats.requests,
        'cpu_s': usage.ru_utime + usage.ru_stime,
        'delay_ms': _Stats.delay * 1000,
    }


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered in order (clients do not pipeline)."""

    def __init__(self) -> None:
        self.buffer = b''
        self.counted = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b'\r\n\r\n')
            if end < 0:
                return
            head = self.buffer[:end].decode('latin-1').split('\r\n')
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(':')
                if name.strip().lower() == 'content-length':
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body, self.buffer = self.buffer[end + 4 : end + 4 + length], self.buffer[end + 4 + length :]
            self.handle(head[0], body)

    def handle(self, request_line: str, body: bytes) -> None:
        _, target, _ = request_line.split(' ', 2)
        if target.startswith('/control'):
            self.send(200, control(target))
            return
        if not self.counted:
            self.counted = True
            _Stats.connections += 1
        _Stats.requests += 1
        try:
            request = json.loads(body)
            payload = answer(urlsplit(target).path, request)
        except Exception as exc:  # a request this server cannot answer: say why, loudly
            self.send(400, {'error': {'message': f'w2 server: {exc!r}', 'type': 'invalid_request_error'}})
            return
        if request.get('stream') and 'choices' in payload:
            data, content_type = stream_events(payload), 'text/event-stream'
        else:
            data, content_type = json.dumps(payload).encode(), 'application/json'
        if _Stats.delay:
            asyncio.get_running_loop().call_later(_Stats.delay, self.write, 200, data, content_type)
        else:
            self.write(200, data, content_type)

    def send(self, status: int, payload: dict[str, Any]) -> None:
        self.write(status, json.dumps(payload).encode(), 'application/json')

    def write(self, status: int, data: bytes, content_type: str) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        reason = 'OK' if status == 200 else 'Bad Request'
        self.transport.write(
            f'HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {len(data)}\r\n'
            f'connection: keep-alive\r\n\r\n'.encode()
            + data
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int, delay_ms: float) -> None:
    _Stats.delay = delay_ms / 1000
    server = await asyncio.get_running_loop().create_server(_Connection, '127.0.0.1', port, backlog=4096)
    print(f'port {server.sockets[0].getsockname()[1]}', flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description='The W2 fake model server.')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--delay-ms', type=float, default=0.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.delay_ms))


if __name__ == '__main__':
    main()
