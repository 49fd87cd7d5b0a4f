"""A scriptable provider server (OpenAI chat completions and embeddings, Anthropic messages) for real clients.

Behaviours say what happens (a reply, an error status, a stall, a body no client can read); each protocol renders
them in its own wire shape, chosen by the request's path; replies stream when the request asks (Pydantic-AI streams
every Anthropic request). Faults that break a stream midway (an error event, a reset connection, an end without a
finish reason) come in both stream shapes: OpenAI's `chat.completion.chunk` lines and Anthropic's named events.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias, assert_never, cast

from .._core._errors import FaultServerError

if TYPE_CHECKING:
    from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.profiles import ModelProfileSpec

__all__ = (
    'JSON',
    'Behaviour',
    'ErrorResponse',
    'Fault',
    'FaultServer',
    'FinishReason',
    'Malformed',
    'MalformedKind',
    'Protocol',
    'RecordedRequest',
    'Reply',
    'ResetMidBody',
    'Slow',
    'Stall',
    'StreamError',
    'ToolCall',
    'Truncated',
)

JSON: TypeAlias = Any
"""A decoded JSON value, left open so tests can index request bodies without narrowing every level."""

FinishReason: TypeAlias = Literal['stop', 'length', 'tool_calls', 'content_filter']

Protocol: TypeAlias = Literal['openai', 'anthropic']
MalformedKind: TypeAlias = Literal['empty_choices', 'html', 'null', 'invalid_json']

_PATHS: dict[str, Protocol] = {
    '/v1/chat/completions': 'openai',
    '/v1/embeddings': 'openai',
    '/v1/messages': 'anthropic',
}
_EMBEDDINGS_PATH = '/v1/embeddings'
_EMBEDDING_SIZE = 64
_WORD = re.compile(r"[a-z0-9']+")
_STOP_REASONS: dict[FinishReason, str] = {
    'stop': 'end_turn',
    'length': 'max_tokens',
    'tool_calls': 'tool_use',
    'content_filter': 'refusal',
}
_ANTHROPIC_ERROR_TYPES = {'server_error': 'api_error'}
"""OpenAI's error types under the names Anthropic gives them in a stream's `error` event."""
_HTML_PAGE = b'<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>'
_PARTIAL_TEXT = 'The answer is'  # what a response that breaks off has delivered by then
_OUTPUT_TOOL = 'final_result'  # the tool a pydantic-ai agent with a structured `output_type` asks the model to call
_CREDENTIAL_HEADERS = frozenset({'authorization', 'api-key', 'x-api-key'})
_PIECE = 8  # characters per streamed delta: small enough that every reply arrives as several chunks
_POLL_INTERVAL = 0.05  # how often the accept loop checks for shutdown, which bounds how long stop() takes


@dataclass(frozen=True)
class ToolCall:
    """A function call made by the scripted model."""

    name: str
    arguments: str
    """The arguments exactly as sent on the wire: JSON text, or deliberately broken text."""


@dataclass(frozen=True)
class Reply:
    """A 200 chat completion, sent as JSON or as an SSE stream as the request asks.

    To an embeddings request, any `Reply` answers with one vector per input text: its words hashed into 64
    dimensions, so texts that share words are similar and others are not.
    """

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    finish_reason: FinishReason | None = None
    """Sent as given; when unset, `tool_calls` for a reply that calls tools and `stop` otherwise."""
    prompt_tokens: int = 10
    completion_tokens: int = 5

    @classmethod
    def text(cls, text: str) -> Reply:
        """A plain text answer."""
        return cls(content=text)

    @classmethod
    def tool_call(cls, name: str, args: Mapping[str, JSON] | str) -> Reply:
        """A call to one tool; a mapping is sent JSON-encoded, a string verbatim."""
        return cls(tool_calls=(ToolCall(name, _encode_args(args)),))


@dataclass(frozen=True)
class ErrorResponse:
    """An HTTP error status with OpenAI's JSON error body, sent before any stream opens."""

    status: int
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: Mapping[str, JSON] | None = None
    """A JSON body to send instead of the error object built from the fields above, for providers and gateways
    that answer in other shapes or echo the request back."""


@dataclass(frozen=True)
class Stall:
    """Accept the request and send nothing for `seconds`, then hang up: only a client timeout ends it sooner."""

    seconds: float


@dataclass(frozen=True)
class Slow:
    """Wait `seconds`, then behave as `then`: a provider that is slow but eventually answers."""

    seconds: float
    then: Behaviour


_RESET_AFTER_S = 0.2
"""How long `ResetMidBody` lets the partial body reach the client before it resets the connection."""


@dataclass(frozen=True)
class ResetMidBody:
    """Send a 200 and part of the body, then reset the connection (TCP RST), like a proxy or node dying mid-reply.

    A stream gets its opening events and one text delta first, in the request's protocol.
    """


@dataclass(frozen=True)
class Truncated:
    """End the response early but cleanly.

    An OpenAI stream gets one content delta, then EOF with no `finish_reason` and no `[DONE]`; an Anthropic stream
    gets `message_start`, one text block's start and delta, then EOF with no `message_delta` (so no `stop_reason`)
    and no `message_stop`. A JSON body is cut short of its declared `Content-Length`.
    """

    text: str = _PARTIAL_TEXT
    """The only content the client receives."""


@dataclass(frozen=True)
class StreamError:
    """An error event inside a 200 SSE stream after the first delta, as providers report failures mid-generation.

    OpenAI's stream gets a `data:` line holding the error object; Anthropic's an `event: error`, with the type under
    Anthropic's name (`server_error` is sent as `api_error`; `overloaded_error` as it is). A non-streaming request
    gets a 200 whose JSON body is the error object, as some gateways send.
    """

    message: str
    type: str
    code: str | None = None


@dataclass(frozen=True)
class Malformed:
    """A 200 whose body no client can read as an answer, as gateways, caches and half-deployed providers send.

    `empty_choices`: a well-formed completion with `"choices": []` (Anthropic: `"content": []`, embeddings:
    `"data": []`); `html`: an HTML
    error page served as `text/html` with status 200; `null`: the JSON body `null`; `invalid_json`: a body
    declared as JSON, delivered in full, that does not parse.
    """

    kind: MalformedKind


Behaviour: TypeAlias = Reply | ErrorResponse | Stall | Slow | ResetMidBody | Truncated | StreamError | Malformed
"""How the server answers one request."""

_OK = Reply.text('ok')


class Fault:
    """Builders for the ways a provider misbehaves.

    Transport and status faults build their own behaviour types. Faults in content (bad tool arguments, refusals,
    truncation by `max_tokens`) are well-formed completions on the wire, so those builders return a `Reply`. Tool
    names default to `final_result`, the tool pydantic-ai uses for structured output.
    """

    @staticmethod
    def rate_limit(retry_after: float | None = 1.0, retry_after_ms: float | None = None) -> ErrorResponse:
        """429 `rate_limit_exceeded`, with `Retry-After` and/or `retry-after-ms` headers when given."""
        headers: list[tuple[str, str]] = []
        if retry_after is not None:
            headers.append(('retry-after', _format_number(retry_after)))
        if retry_after_ms is not None:
            headers.append(('retry-after-ms', _format_number(retry_after_ms)))
        return ErrorResponse(
            429,
            'Rate limit reached for requests. Please try again later.',
            'requests',
            'rate_limit_exceeded',
            headers=tuple(headers),
        )

    @staticmethod
    def quota() -> ErrorResponse:
        """429 `insufficient_quota`: same status as a rate limit, but waiting will not help."""
        return ErrorResponse(
            429,
            'You exceeded your current quota, please check your plan and billing details.',
            'insufficient_quota',
            'insufficient_quota',
        )

    @staticmethod
    def server_error(*, should_retry: bool | None = None) -> ErrorResponse:
        """500; `should_retry` sets the `x-should-retry` header that OpenAI's SDK obeys over its own policy."""
        headers = () if should_retry is None else (('x-should-retry', 'true' if should_retry else 'false'),)
        return ErrorResponse(
            500,
            'The server had an error while processing your request. Sorry about that!',
            'server_error',
            headers=headers,
        )

    @staticmethod
    def unavailable() -> ErrorResponse:
        """503 whose message does not say overloaded, so it reads as plain unavailability."""
        return ErrorResponse(
            503,
            'The service is temporarily unavailable. Please try again later.',
            'server_error',
            'service_unavailable',
        )

    @staticmethod
    def overloaded() -> ErrorResponse:
        """529 `overloaded_error`, as Anthropic-style gateways report load shedding."""
        return ErrorResponse(529, 'Overloaded', 'overloaded_error')

    @staticmethod
    def empty_choices() -> Malformed:
        """200 with `"choices": []` (Anthropic: `"content": []`): a valid envelope around no answer at all."""
        return Malformed('empty_choices')

    @staticmethod
    def html_page() -> Malformed:
        """200 with an HTML error page, as a proxy or CDN answers when the provider behind it is down."""
        return Malformed('html')

    @staticmethod
    def null_body() -> Malformed:
        """200 with the JSON body `null`."""
        return Malformed('null')

    @staticmethod
    def invalid_json() -> Malformed:
        """200 declared as JSON whose complete body does not parse."""
        return Malformed('invalid_json')

    @staticmethod
    def context_length() -> ErrorResponse:
        """400 `context_length_exceeded`: the prompt is too long, so resending it unchanged cannot succeed."""
        return ErrorResponse(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. "
            'Please reduce the length of the messages.',
            'invalid_request_error',
            'context_length_exceeded',
            param='messages',
        )

    @staticmethod
    def auth() -> ErrorResponse:
        """401 `invalid_api_key`."""
        return ErrorResponse(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key')

    @staticmethod
    def forbidden() -> ErrorResponse:
        """403, as OpenAI answers requests from unsupported regions."""
        return ErrorResponse(
            403,
            'Country, region, or territory not supported',
            'request_forbidden',
            'unsupported_country_region_territory',
        )

    @staticmethod
    def stall(seconds: float) -> Stall:
        """No status line or headers for `seconds`, then a hang-up."""
        return Stall(seconds)

    @staticmethod
    def slow(seconds: float, then: Behaviour = _OK) -> Slow:
        """A valid answer (`then`, by default `Reply.text('ok')`) after `seconds`."""
        return Slow(seconds, then)

    @staticmethod
    def reset_mid_body() -> ResetMidBody:
        """Headers and part of the body, then a TCP reset."""
        return ResetMidBody()

    @staticmethod
    def truncated(text: str = _PARTIAL_TEXT) -> Truncated:
        """A response that ends early without an error: one delta and EOF when streaming."""
        return Truncated(text)

    @staticmethod
    def stream_error(
        message: str = 'The server had an error while processing your request. Sorry about that!',
        *,
        type: str = 'server_error',
        code: str | None = None,
    ) -> StreamError:
        """An error event after the stream has started, so the 200 status no longer tells the truth."""
        return StreamError(message, type, code)

    @staticmethod
    def malformed_json(arguments: str = '{"answer": ', *, tool_name: str = _OUTPUT_TOOL) -> Reply:
        """A tool call whose arguments are not valid JSON."""
        return Reply(tool_calls=(ToolCall(tool_name, arguments),))

    @staticmethod
    def schema_invalid(args: Mapping[str, JSON], *, tool_name: str = _OUTPUT_TOOL) -> Reply:
        """A tool call with valid JSON arguments that do not match the tool's schema."""
        return Reply.tool_call(tool_name, args)

    @staticmethod
    def unknown_tool(name: str = 'no_such_tool', args: Mapping[str, JSON] | None = None) -> Reply:
        """A call to a tool the request never offered."""
        return Reply.tool_call(name, {} if args is None else args)

    @staticmethod
    def empty() -> Reply:
        """A completion with no content and no tool calls."""
        return Reply()

    @staticmethod
    def refusal(text: str = "I'm sorry, I can't help with that.") -> Reply:
        """A refusal in `message.refusal`, as OpenAI's safety layer sends for structured output."""
        return Reply(refusal=text)

    @staticmethod
    def content_filter() -> Reply:
        """No content and `finish_reason: content_filter`."""
        return Reply(finish_reason='content_filter')

    @staticmethod
    def length_cut(partial_args: str = '{"answer": "The answ', *, tool_name: str = _OUTPUT_TOOL) -> Reply:
        """`finish_reason: length` in the middle of a tool call's arguments, as when `max_tokens` runs out."""
        return Reply(tool_calls=(ToolCall(tool_name, partial_args),), finish_reason='length')


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it, with credentials redacted so it can be printed safely."""

    index: int
    path: str
    body: JSON
    """The decoded JSON body, or `None` if it was not JSON."""
    headers: Mapping[str, str]
    """Request headers with lowercased names."""
    behaviour: Behaviour
    """What the server did, including the 404 or 400 it sends for a request it cannot route."""
    request_id: str
    """The `x-request-id` the response carried, to match a client-side error to this record."""
    received_at: float
    """`time.monotonic()` when the request arrived."""

    @property
    def stream(self) -> bool:
        """Whether the client asked for an SSE stream."""
        return _as_object(self.body).get('stream') is True

    @property
    def protocol(self) -> Protocol:
        """The provider protocol the request spoke, from its path."""
        return _PATHS.get(self.path.partition('?')[0], 'openai')


class FaultServer:
    """OpenAI chat-completions and embeddings and Anthropic messages endpoints on 127.0.0.1, answering as scripted.

    Each request takes the next queued behaviour (positional arguments start the queue); when the queue is empty
    it gets `default`, which may be a function of the request body for per-prompt scripting. The server runs on
    threads, so sync and async tests can point a real client at `base_url` alike.
    """

    def __init__(self, *queued: Behaviour, default: Behaviour | Callable[[JSON], Behaviour] = _OK):
        self._lock = threading.Lock()
        self._queue: deque[Behaviour] = deque(queued)
        self._initial_default = default
        self._default = default
        self._requests: list[RecordedRequest] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> Self:
        """Bind an ephemeral port and start answering."""
        if self._httpd is not None:
            raise FaultServerError('FaultServer is already running')
        self._stopping = threading.Event()
        self._httpd = _HTTPServer(self._serve)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(_POLL_INTERVAL,), name='FaultServer', daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and release the port, waking any stalled or slow handler so nothing lingers."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._httpd = self._thread = None
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (ending in `/v1`) to give a client."""
        if self._httpd is None:
            raise FaultServerError('FaultServer is not running')
        return f'http://127.0.0.1:{self._httpd.server_port}/v1'

    @property
    def anthropic_base_url(self) -> str:
        """The Anthropic base URL (without `/v1`, which the SDK adds) to give a client."""
        return self.base_url.removesuffix('/v1')

    @property
    def default(self) -> Behaviour | Callable[[JSON], Behaviour]:
        """The behaviour for requests that find the queue empty."""
        with self._lock:
            return self._default

    @default.setter
    def default(self, default: Behaviour | Callable[[JSON], Behaviour]) -> None:
        with self._lock:
            self._default = default

    def push(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, in order."""
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received so far, faulted ones included, in arrival order."""
        with self._lock:
            return tuple(self._requests)

    @property
    def hits(self) -> int:
        """How many requests have arrived."""
        with self._lock:
            return len(self._requests)

    def reset(self) -> None:
        """Forget requests and queued behaviours and restore the initial default, so one server can serve many tests."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._default = self._initial_default

    def openai_model(
        self,
        model_name: str = 'gpt-4o',
        *,
        timeout: float | None = None,
        profile: ModelProfileSpec | None = None,
        max_retries: int = 0,
    ) -> OpenAIChatModel:
        """A pydantic-ai OpenAI model pointed at this server, with SDK retries off so each fault surfaces once.

        The caller owns `model.client` and should close it. `timeout` is the SDK's per-attempt timeout;
        `max_retries=2` builds the client as users do, with the SDK's own retries on.
        """
        # Imported here because the `openai` extra is optional for the rest of the package.
        from openai import AsyncOpenAI, not_given
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        client = AsyncOpenAI(
            base_url=self.base_url,
            api_key='test-key',
            max_retries=max_retries,
            timeout=not_given if timeout is None else timeout,
        )
        return OpenAIChatModel(model_name, provider=OpenAIProvider(openai_client=client), profile=profile)

    def anthropic_model(
        self, model_name: str = 'claude-sonnet-4-5', *, timeout: float | None = None, max_retries: int = 0
    ) -> AnthropicModel:
        """A pydantic-ai Anthropic model pointed at this server; as `openai_model`, for the Messages protocol."""
        # Imported here because the `anthropic` extra is optional for the rest of the package.
        from anthropic import AsyncAnthropic, not_given
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        client = AsyncAnthropic(
            base_url=self.anthropic_base_url,
            api_key='test-key',
            max_retries=max_retries,
            timeout=not_given if timeout is None else timeout,
        )
        return AnthropicModel(model_name, provider=AnthropicProvider(anthropic_client=client))

    def openai_embedding_model(
        self, model_name: str = 'text-embedding-3-small', *, timeout: float | None = None, max_retries: int = 0
    ) -> OpenAIEmbeddingModel:
        """A pydantic-ai OpenAI embedding model pointed at this server; as `openai_model`, for `/v1/embeddings`."""
        # Imported here because the `openai` extra is optional for the rest of the package.
        from openai import AsyncOpenAI, not_given
        from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel
        from pydantic_ai.providers.openai import OpenAIProvider

        client = AsyncOpenAI(
            base_url=self.base_url,
            api_key='test-key',
            max_retries=max_retries,
            timeout=not_given if timeout is None else timeout,
        )
        return OpenAIEmbeddingModel(model_name, provider=OpenAIProvider(openai_client=client))

    def _serve(self, handler: _Handler) -> None:
        received_at = time.monotonic()
        stopping = self._stopping
        body = _parse_json(handler.rfile.read(int(handler.headers.get('content-length') or 0)))
        behaviour = _reject(handler, body) or self._take(body)
        headers = {
            name.lower(): '[redacted]' if name.lower() in _CREDENTIAL_HEADERS else value
            for name, value in handler.headers.items()
        }
        with self._lock:
            record = RecordedRequest(
                index=len(self._requests),
                path=handler.path,
                body=body,
                headers=headers,
                behaviour=behaviour,
                request_id=f'req_{uuid.uuid4().hex}',
                received_at=received_at,
            )
            self._requests.append(record)
        _Exchange(handler, record, stopping).send(behaviour)

    def _take(self, body: JSON) -> Behaviour:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            default = self._default
        # Called outside the lock so a scripting function may read `requests`.
        return default if isinstance(default, Behaviour) else default(body)


class _Exchange:
    """Writes the response a behaviour describes onto one request's connection."""

    def __init__(self, handler: _Handler, record: RecordedRequest, stopping: threading.Event):
        body = _as_object(record.body)
        model = body.get('model')
        self._handler = handler
        self._record = record
        self._stopping = stopping
        self._model: str = model if isinstance(model, str) else 'gpt-4o'
        self._anthropic = record.protocol == 'anthropic'
        self._embeddings = record.path.partition('?')[0] == _EMBEDDINGS_PATH
        self._include_usage = _as_object(body.get('stream_options')).get('include_usage') is True
        self._completion_id = f'chatcmpl-{uuid.uuid4().hex[:24]}'
        self._created = int(time.time())

    def send(self, behaviour: Behaviour) -> None:
        match behaviour:
            case Reply():
                if self._embeddings:
                    self._send_json(200, self._embedding_list())
                elif self._record.stream and self._anthropic:
                    self._stream_message(behaviour)
                elif self._record.stream:
                    self._stream_reply(behaviour)
                else:
                    self._send_json(200, self._completion(behaviour))
            case ErrorResponse():
                error = behaviour.body
                if error is None:
                    error = self._error_body(behaviour.message, behaviour.type, behaviour.code, behaviour.param)
                self._send_json(behaviour.status, dict(error), behaviour.headers)
            case Malformed():
                self._send_malformed(behaviour.kind)
            case Stall():
                self._stopping.wait(behaviour.seconds)
            case Slow():
                if not self._stopping.wait(behaviour.seconds):
                    self.send(behaviour.then)
            case ResetMidBody():
                self._send_partial(_PARTIAL_TEXT)
                # A reset that lands before the client read what was sent makes its kernel drop that data too:
                # the client must see the partial body first, as it would from a node that died mid-reply.
                self._stopping.wait(_RESET_AFTER_S)
                self._reset()
            case Truncated():
                self._send_partial(behaviour.text)
            case StreamError():
                error = self._error_body(behaviour.message, behaviour.type, behaviour.code, None)
                if self._record.stream:
                    self._send_partial(_PARTIAL_TEXT)
                    if self._anthropic:
                        kind = _ANTHROPIC_ERROR_TYPES.get(behaviour.type, behaviour.type)
                        self._named_event('error', self._error_body(behaviour.message, kind, None, None))
                    else:
                        self._event(error)
                else:
                    self._send_json(200, error)
            case _:
                assert_never(behaviour)

    def _send_malformed(self, kind: MalformedKind) -> None:
        match kind:
            case 'empty_choices' if self._anthropic and self._record.stream:
                self._stream_message(Reply())
            case 'empty_choices' if self._embeddings:
                self._send_json(200, {**self._embedding_list(), 'data': []})
            case 'empty_choices':
                payload = self._completion(Reply.text(''))
                payload['content' if self._anthropic else 'choices'] = []
                self._send_json(200, payload)
            case 'html':
                self._send_bytes(200, 'text/html; charset=utf-8', _HTML_PAGE)
            case 'null':
                self._send_bytes(200, 'application/json', b'null')
            case 'invalid_json':
                self._send_bytes(200, 'application/json', b'{"id": "resp", "choices": [}')
            case _:
                assert_never(kind)

    def _embedding_list(self) -> dict[str, JSON]:
        """An OpenAI embeddings response for the request's `input`, in the `encoding_format` it asked for."""
        body = _as_object(self._record.body)
        given: JSON = body.get('input')
        texts: list[JSON] = (
            [given] if isinstance(given, str) else cast('list[JSON]', given) if isinstance(given, list) else []
        )
        as_base64 = body.get('encoding_format') == 'base64'
        data: list[JSON] = []
        for index, text in enumerate(texts):
            vector = _embed(text if isinstance(text, str) else json.dumps(text))
            encoded = base64.b64encode(struct.pack(f'<{len(vector)}f', *vector)).decode() if as_base64 else vector
            data.append({'object': 'embedding', 'index': index, 'embedding': encoded})
        tokens = sum(len(str(text).split()) for text in texts)
        return {
            'object': 'list',
            'data': data,
            'model': self._model,
            'usage': {'prompt_tokens': tokens, 'total_tokens': tokens},
        }

    def _stream_message(self, reply: Reply) -> None:
        """The reply as Anthropic's Messages event stream: a start, one block per text or tool call, a stop."""
        self._open_stream()
        message = self._message(reply)
        blocks: list[dict[str, JSON]] = message['content']
        start: dict[str, JSON] = {**message, 'content': [], 'stop_reason': None}
        start['usage'] = {'input_tokens': reply.prompt_tokens, 'output_tokens': 0}
        self._named_event('message_start', {'type': 'message_start', 'message': start})
        for index, block in enumerate(blocks):
            text = block['type'] == 'text'
            opening: dict[str, JSON] = {**block, 'text': ''} if text else {**block, 'input': {}}
            self._named_event(
                'content_block_start', {'type': 'content_block_start', 'index': index, 'content_block': opening}
            )
            deltas: list[dict[str, JSON]] = (
                [{'type': 'text_delta', 'text': piece} for piece in _pieces(block['text'])]
                if text
                else [{'type': 'input_json_delta', 'partial_json': p} for p in _pieces(json.dumps(block['input']))]
            )
            for delta in deltas:
                self._named_event(
                    'content_block_delta', {'type': 'content_block_delta', 'index': index, 'delta': delta}
                )
            self._named_event('content_block_stop', {'type': 'content_block_stop', 'index': index})
        stop: dict[str, JSON] = {'stop_reason': message['stop_reason'], 'stop_sequence': None}
        usage: dict[str, JSON] = {'output_tokens': reply.completion_tokens}
        self._named_event('message_delta', {'type': 'message_delta', 'delta': stop, 'usage': usage})
        self._named_event('message_stop', {'type': 'message_stop'})

    def _named_event(self, name: str, payload: dict[str, JSON]) -> None:
        self._write(f'event: {name}\n'.encode() + b'data: ' + _dumps(payload) + b'\n\n')

    def _error_body(self, message: str, type: str, code: str | None, param: str | None) -> dict[str, JSON]:
        if self._anthropic:
            return {'type': 'error', 'error': {'type': type, 'message': message}}
        return _error_body(message, type, code, param)

    def _stream_reply(self, reply: Reply) -> None:
        self._open_stream()
        self._chunk({'role': 'assistant', 'content': None if reply.content is None else ''})
        for piece in _pieces(reply.content):
            self._chunk({'content': piece})
        for piece in _pieces(reply.refusal):
            self._chunk({'refusal': piece})
        for index, call in enumerate(reply.tool_calls):
            opening = {'name': call.name, 'arguments': ''}
            self._chunk(
                {'tool_calls': [{'index': index, 'id': self._call_id(index), 'type': 'function', 'function': opening}]}
            )
            for piece in _pieces(call.arguments):
                self._chunk({'tool_calls': [{'index': index, 'function': {'arguments': piece}}]})
        self._chunk({}, finish_reason=_finish_reason(reply))
        if self._include_usage:
            self._event({**self._envelope('chat.completion.chunk'), 'choices': [], 'usage': _usage(reply)})
        self._write(b'data: [DONE]\n\n')

    def _send_partial(self, text: str) -> None:
        """Start a valid response carrying `text` and stop partway, leaving the caller to end the connection."""
        if self._record.stream and self._anthropic:
            self._open_stream()
            start = {**self._message(Reply()), 'stop_reason': None, 'usage': {'input_tokens': 10, 'output_tokens': 0}}
            self._named_event('message_start', {'type': 'message_start', 'message': start})
            block = {'type': 'text', 'text': ''}
            self._named_event(
                'content_block_start', {'type': 'content_block_start', 'index': 0, 'content_block': block}
            )
            delta = {'type': 'text_delta', 'text': text}
            self._named_event('content_block_delta', {'type': 'content_block_delta', 'index': 0, 'delta': delta})
        elif self._record.stream:
            self._open_stream()
            self._chunk({'role': 'assistant', 'content': ''})
            self._chunk({'content': text})
        else:
            data = _dumps(self._completion(Reply.text(text)))
            self._send_headers(200, 'application/json', content_length=len(data))
            self._write(data[: len(data) // 2])

    def _reset(self) -> None:
        """Close with SO_LINGER 0, which makes the kernel send RST instead of FIN."""
        connection = self._handler.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self._handler.rfile.close()  # a socket with an open file object would defer the real close
        connection.close()

    def _completion(self, reply: Reply) -> dict[str, JSON]:
        if self._anthropic:
            return self._message(reply)
        message: dict[str, JSON] = {
            'role': 'assistant',
            'content': reply.content,
            'refusal': reply.refusal,
            'annotations': [],
        }
        if reply.tool_calls:
            message['tool_calls'] = [
                {'id': self._call_id(i), 'type': 'function', 'function': {'name': c.name, 'arguments': c.arguments}}
                for i, c in enumerate(reply.tool_calls)
            ]
        choice = {'index': 0, 'message': message, 'logprobs': None, 'finish_reason': _finish_reason(reply)}
        return {**self._envelope('chat.completion'), 'choices': [choice], 'usage': _usage(reply)}

    def _message(self, reply: Reply) -> dict[str, JSON]:
        """The reply as an Anthropic Messages response: content blocks, a stop reason and usage."""
        content: list[JSON] = []
        if reply.content is not None or reply.refusal is not None:
            content.append({'type': 'text', 'text': reply.content or reply.refusal or ''})
        for index, call in enumerate(reply.tool_calls):
            content.append(
                {'type': 'tool_use', 'id': f'toolu_{self._call_id(index)}', 'name': call.name, 'input': _input(call)}
            )
        finish = (
            'content_filter' if reply.refusal is not None and reply.finish_reason is None else _finish_reason(reply)
        )
        return {
            'id': f'msg_{self._completion_id}',
            'type': 'message',
            'role': 'assistant',
            'model': self._model,
            'content': content,
            'stop_reason': _STOP_REASONS[finish],
            'stop_sequence': None,
            'usage': {'input_tokens': reply.prompt_tokens, 'output_tokens': reply.completion_tokens},
        }

    def _envelope(self, kind: str) -> dict[str, JSON]:
        return {'id': self._completion_id, 'object': kind, 'created': self._created, 'model': self._model}

    def _call_id(self, index: int) -> str:
        return f'call_{self._record.index}_{index}'

    def _chunk(self, delta: dict[str, JSON], finish_reason: FinishReason | None = None) -> None:
        choice = {'index': 0, 'delta': delta, 'logprobs': None, 'finish_reason': finish_reason}
        self._event({**self._envelope('chat.completion.chunk'), 'choices': [choice]})

    def _open_stream(self) -> None:
        # No Content-Length and `Connection: close`: the body runs until the server closes the connection.
        self._send_headers(200, 'text/event-stream; charset=utf-8')

    def _event(self, payload: dict[str, JSON]) -> None:
        self._write(b'data: ' + _dumps(payload) + b'\n\n')

    def _send_json(self, status: int, payload: dict[str, JSON], headers: Iterable[tuple[str, str]] = ()) -> None:
        self._send_bytes(status, 'application/json', _dumps(payload), headers)

    def _send_bytes(self, status: int, content_type: str, data: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        self._send_headers(status, content_type, headers, content_length=len(data))
        self._write(data)

    def _send_headers(
        self,
        status: int,
        content_type: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        content_length: int | None = None,
    ) -> None:
        handler = self._handler
        handler.send_response(status)
        handler.send_header('content-type', content_type)
        handler.send_header('x-request-id', self._record.request_id)
        if content_length is not None:
            handler.send_header('content-length', str(content_length))
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header('connection', 'close')
        handler.end_headers()

    def _write(self, data: bytes) -> None:
        self._handler.wfile.write(data)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    timeout = 5  # socket timeout, so a client that never sends its body cannot hold a thread

    def do_POST(self) -> None:
        # One request per connection: a handler never waits on an idle keep-alive socket, so stop() stays prompt.
        self.close_connection = True
        # A client that hangs up first (its timeout fired on a stall) is expected, not an error worth a traceback.
        with contextlib.suppress(ConnectionError):
            cast(_HTTPServer, self.server).serve(self)

    def log_message(self, format: str, *args: object) -> None:
        """Keep access logs out of test output."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = socket.SOMAXCONN  # socketserver's default of 5 resets connections beyond a burst of 5
    block_on_close = False  # stop() must not wait for handlers; they end on their own once `_stopping` is set

    def __init__(self, serve: Callable[[_Handler], None]):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.serve = serve


def _reject(handler: _Handler, body: JSON) -> ErrorResponse | None:
    """The error the provider sends for a request this server cannot route, or `None`."""
    if handler.path.partition('?')[0] not in _PATHS:
        return ErrorResponse(404, f'Invalid URL ({handler.command} {handler.path})', 'invalid_request_error')
    if not isinstance(body, dict):
        return ErrorResponse(
            400,
            'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.',
            'invalid_request_error',
        )
    return None


def _input(call: ToolCall) -> JSON:
    """A tool call's arguments as Anthropic's `input` object; arguments that are not a JSON object send `{}`."""
    parsed = _parse_json(call.arguments.encode())
    return _as_object(parsed)


def _embed(text: str) -> list[float]:
    """Words hashed into buckets: texts that share words point the same way, others are orthogonal or near it."""
    vector = [0.0] * _EMBEDDING_SIZE
    for word in _WORD.findall(text.lower()):
        vector[int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], 'big') % _EMBEDDING_SIZE] += 1.0
    return vector


def _finish_reason(reply: Reply) -> FinishReason:
    if reply.finish_reason is not None:
        return reply.finish_reason
    return 'tool_calls' if reply.tool_calls else 'stop'


def _usage(reply: Reply) -> dict[str, JSON]:
    return {
        'prompt_tokens': reply.prompt_tokens,
        'completion_tokens': reply.completion_tokens,
        'total_tokens': reply.prompt_tokens + reply.completion_tokens,
    }


def _error_body(message: str, type: str, code: str | None, param: str | None) -> dict[str, JSON]:
    return {'error': {'message': message, 'type': type, 'param': param, 'code': code}}


def _pieces(text: str | None) -> list[str]:
    text = text or ''
    return [text[i : i + _PIECE] for i in range(0, len(text), _PIECE)]


def _encode_args(args: Mapping[str, JSON] | str) -> str:
    return args if isinstance(args, str) else json.dumps(dict(args))


def _format_number(value: float) -> str:
    """Header form of a number: `2` rather than `2.0`, since `Retry-After` is defined as whole seconds."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _dumps(payload: dict[str, JSON]) -> bytes:
    return json.dumps(payload, separators=(',', ':')).encode()


def _parse_json(raw: bytes) -> JSON:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _as_object(value: JSON) -> dict[str, JSON]:
    return cast('dict[str, JSON]', value) if isinstance(value, dict) else {}
