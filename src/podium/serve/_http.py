"""The HTTP plumbing of a served workflow: bounded JSON bodies, problem responses, streams that stop with the client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, Mapping
from typing import Any

import anyio
from pydantic import ValidationError
from pydantic_core import to_json
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .._core._redact import redact

__all__ = ('EventStreamResponse', 'Problem', 'invalid', 'problem_response', 'read_json_body')

JSON = 'application/json'


class Problem(HTTPException):
    """A request the server will not run, with the JSON body that says why.

    A Starlette `HTTPException`, so routing errors (404, 405) and these go through one handler.
    """

    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(status, detail=message)
        self.error = error
        self.extra = extra


def problem_response(request: Request, exc: Exception) -> Response:
    """The JSON body of any `HTTPException`: `{"error": code, "message": text, ...}`."""
    assert isinstance(exc, HTTPException)
    headers = exc.headers or {}
    if isinstance(exc, Problem):
        error, message, extra = exc.error, exc.detail, exc.extra
    elif exc.status_code == 404:
        error, message, extra = 'not_found', f'nothing at {request.url.path}; GET /openapi.json lists the routes', {}
    elif exc.status_code == 405:
        allowed = next((value for name, value in headers.items() if name.lower() == 'allow'), 'other methods')
        error, message, extra = 'method_not_allowed', f'{request.url.path} takes {allowed}, not {request.method}', {}
    else:
        error, message, extra = 'http_error', exc.detail, {}
    body = {'error': error, 'message': redact(message), **extra}
    return Response(to_json(body), status_code=exc.status_code, headers=headers, media_type=JSON)


def invalid(exc: ValidationError, what: str) -> Problem:
    """A 422 naming each field that failed, without echoing the input (it may hold anything)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    first = errors[0]
    where = '.'.join(map(str, first['loc']))
    more = f' (and {len(errors) - 1} more)' if len(errors) > 1 else ''
    message = f'the body does not fit {what}: {where + ": " if where else ""}{first["msg"]}{more}'
    detail = [{'loc': list(e['loc']), 'msg': e['msg'], 'type': e['type']} for e in errors]
    return Problem(422, 'invalid_input', message, detail=detail)


async def read_json_body(request: Request, limit: int) -> bytes:
    """The request's body, refused with 415 unless it is JSON and with 413 once it passes `limit` bytes.

    The declared `Content-Length` is checked before anything is read, and the bytes as they arrive, as a chunked
    body declares no length. Requiring `application/json` keeps another site's page from starting runs with a
    form post, which a browser sends cross-origin without asking.
    """
    media_type = request.headers.get('content-type', '').partition(';')[0].strip().lower()
    if media_type != JSON:
        raise Problem(
            415,
            'unsupported_media_type',
            f'send the body as JSON with `Content-Type: {JSON}` (got {media_type or "no content type"})',
        )
    declared = request.headers.get('content-length')
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b''.join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(413, 'body_too_large', f'the body is larger than the server accepts ({limit} bytes)')


class EventStreamResponse(StreamingResponse):
    """A streamed response that stops the moment its client disconnects, whichever ASGI server runs it.

    Starlette only listens for the disconnect under ASGI spec versions before 2.4; later it notices when the next
    write fails, which may be long after a client left a run waiting on a slow model. Stopping the body's iterator
    cancels the run inside it.
    """

    def __init__(
        self, content: AsyncIterable[str | bytes], *, media_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(content, media_type=media_type, headers={'cache-control': 'no-cache', **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                with contextlib.suppress(OSError):  # the client went away while a chunk was written
                    await self.stream_response(send)
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()
