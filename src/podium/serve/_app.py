"""`app(workflow)`: a workflow as a Starlette application, to run with uvicorn or mount in another ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_ai.ui.ag_ui import AGUIAdapter
from pydantic_ai.ui.vercel_ai import VercelAIAdapter, VercelAIEventStream
from pydantic_ai.usage import UsageLimits
from pydantic_core import to_json
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .._core._errors import ConfigurationError, WorkflowError
from .._core._events import run_event_adapter
from .._core._hooks import RunHook
from .._core._redact import describe, redact
from .._core._step import AnyStep
from ._http import JSON, EventStreamResponse, Problem, invalid, problem_response, read_json_body
from ._input import WorkflowTypes
from ._openapi import openapi_document
from ._page import render_page
from ._protocols import StepAwareAGUIStream, latest_user_text, native_events

__all__ = ('DEFAULT_MAX_BODY_BYTES', 'app')

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""The largest request body a served workflow reads (1 MiB); a larger one gets 413 before it is read."""

_RUN_FAILED_STATUS = 500


def app(
    workflow: AnyStep,
    *,
    deps: Any = None,
    usage_limits: UsageLimits | None = None,
    timeout: float | None = None,
    hooks: Sequence[RunHook] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    title: str | None = None,
) -> Starlette:
    """`workflow` over HTTP, as a Starlette app: `uvicorn.run(app(workflow))`, or mount it in another app.

    Routes: `POST /run` (the output and the run's summary as JSON), `POST /stream` (the run's events as server-sent
    events), `POST /ag-ui` and `POST /vercel-ai` (the run as those chat protocols stream it), `GET /` (a page that
    runs the workflow and shows its steps live) and `GET /openapi.json`. Every run gets `deps`, `usage_limits`,
    `timeout` and `hooks` as `Step.run` takes them.

    Args:
        workflow: The step to serve; its input type is what the POST bodies are validated against.
        deps: Handed to every run, as `Step.run(deps=...)`; one object shared by every request.
        usage_limits: Limits for each run.
        timeout: Seconds after which a run stops with `WorkflowTimeout`.
        hooks: Run hooks for every run.
        max_body_bytes: The largest request body read; larger ones are refused with 413.
        title: The title of the page and of the OpenAPI document (default: the workflow's name).

    Raises:
        ConfigurationError: when the workflow's input type cannot be read from JSON, or `max_body_bytes` is not
            positive.
    """
    if max_body_bytes < 1:
        raise ConfigurationError(f'max_body_bytes must be at least 1, got {max_body_bytes!r}')
    served = _Served(
        workflow,
        options={'deps': deps, 'usage_limits': usage_limits, 'timeout': timeout, 'hooks': tuple(hooks)},
        limit=max_body_bytes,
        title=title or workflow.name,
    )
    return Starlette(
        routes=[
            Route('/', served.page, methods=['GET']),
            Route('/openapi.json', served.openapi, methods=['GET']),
            Route('/run', served.run, methods=['POST']),
            Route('/stream', served.stream, methods=['POST']),
            Route('/ag-ui', served.ag_ui, methods=['POST']),
            Route('/vercel-ai', served.vercel_ai, methods=['POST']),
        ],
        exception_handlers={HTTPException: problem_response},
    )


class _Served:
    """The endpoints of one served workflow."""

    def __init__(self, workflow: AnyStep, *, options: dict[str, Any], limit: int, title: str) -> None:
        self.workflow = workflow
        self.types = WorkflowTypes(workflow)
        self.options = options
        self.limit = limit
        self.title = title
        self._openapi: bytes | None = None
        self._page: str | None = None

    async def page(self, request: Request) -> Response:
        if self._page is None:
            self._page = render_page(self.workflow, self.types, title=self.title)
        return HTMLResponse(self._page)

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            self._openapi = to_json(openapi_document(self.workflow, self.types, title=self.title))
        return Response(self._openapi, media_type=JSON)

    async def run(self, request: Request) -> Response:
        value = self.types.parse(await read_json_body(request, self.limit))
        try:
            result = await self.workflow.run(value, **self.options)
        except Exception as exc:  # the run failed: say so in the response, and keep serving
            return Response(to_json(_failure(exc)), status_code=_RUN_FAILED_STATUS, media_type=JSON)
        return Response(to_json(result.summary()), media_type=JSON)

    async def stream(self, request: Request) -> Response:
        value = self.types.parse(await read_json_body(request, self.limit))
        return EventStreamResponse(self._server_sent_events(value), media_type='text/event-stream')

    async def _server_sent_events(self, value: object) -> AsyncIterator[bytes]:
        async with self.workflow.stream(value, **self.options) as events:
            async for event in events:
                yield b'event: %s\ndata: %s\n\n' % (event.type.encode(), run_event_adapter.dump_json(event))

    async def ag_ui(self, request: Request) -> Response:
        return await self._chat(request, AGUIAdapter, StepAwareAGUIStream, 'an AG-UI RunAgentInput')

    async def vercel_ai(self, request: Request) -> Response:
        return await self._chat(request, VercelAIAdapter, VercelAIEventStream[Any, Any], 'a Vercel AI chat request')

    async def _chat(self, request: Request, adapter: Any, stream_class: Callable[..., Any], what: str) -> Response:
        """A chat protocol's endpoint: its request read by Pydantic-AI's `adapter`, the run sent by `stream_class`."""
        body = await read_json_body(request, self.limit)
        try:
            run_input = adapter.build_run_input(body)
        except ValidationError as exc:
            raise invalid(exc, what) from exc
        value = self._chat_input(latest_user_text(adapter.load_messages(run_input.messages)))
        stream = stream_class(run_input=run_input, accept=request.headers.get('accept'))
        run = self.workflow.stream(value, **self.options)
        events = stream.encode_stream(stream.transform_stream(native_events(run, self.types)))
        return EventStreamResponse(events, media_type=stream.content_type, headers=stream.response_headers)

    def _chat_input(self, text: str | None) -> object:
        if text is None:
            raise Problem(422, 'invalid_input', 'the conversation has no user message to run the workflow on')
        return self.types.parse_text(text)


def _failure(exc: Exception) -> dict[str, Any]:
    """The body of a failed run: its error's class, the redacted message, the step it names and what ran."""
    if isinstance(exc, WorkflowError):
        return {
            'error': type(exc).__name__,
            'message': redact(exc.message),
            'step': exc.step,
            'steps': [record.summary() for record in exc.records],
        }
    return {'error': type(exc).__name__, 'message': redact(describe(exc)), 'step': None, 'steps': []}
