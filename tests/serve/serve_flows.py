"""Workflows the serve tests serve, and a reader of server-sent events."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
from pydantic import BaseModel
from pydantic_ai.messages import PartDeltaEvent, PartEndEvent, PartStartEvent, TextPart, TextPartDelta

import podium
from podium import Step, StepScope
from podium.events import AgentEvent, AttemptFailed, FallbackTaken, OutputDelta, OutputDiscarded, RouteDecided

EXAMPLES = Path(__file__).parents[2] / 'examples'
SRC = Path(__file__).parents[2] / 'src'
SRC_ENV = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [str(SRC), os.environ.get('PYTHONPATH')]))}
"""The environment of a `podium` command run from this checkout."""
DESK = str(EXAMPLES / 'support_desk.py')
SECRET = 'sk-proj-4f9a1c2e7b3d8e6f0a5b'


class Ticket(BaseModel):
    text: str
    priority: int


class Answer(BaseModel):
    text: str
    urgent: bool


@podium.step
async def triage(ticket: Ticket) -> Answer:
    return Answer(text=ticket.text.upper(), urgent=ticket.priority > 2)


@podium.step
async def echo(text: str) -> str:
    return text


@podium.step
async def leaks(text: str) -> str:
    raise ValueError(f'provider said: Incorrect API key provided: {SECRET}')


class Opaque:
    """A class pydantic has no schema for."""


@podium.step
async def takes_opaque(value: Opaque) -> str:
    return 'opaque'


class Talker(Step[str, str]):
    """An agent-like step that streams its text the way an agent step does: Pydantic-AI events and deltas."""

    name = 'talker'
    input_class = str
    output_class = str
    record_kind = 'agent'

    async def _run(self, input: str, scope: StepScope) -> str:
        scope.emit(OutputDelta(path=scope.tree_path, text='draft'))
        scope.emit(OutputDiscarded(path=scope.tree_path, reason='retry'))
        scope.emit(AgentEvent(path=scope.tree_path, event=PartStartEvent(index=0, part=TextPart(content='Hel'))))
        scope.emit(
            AgentEvent(path=scope.tree_path, event=PartDeltaEvent(index=0, delta=TextPartDelta(content_delta='lo')))
        )
        scope.emit(AgentEvent(path=scope.tree_path, event=PartEndEvent(index=0, part=TextPart(content='Hello'))))
        return f'Hello, {input}'


talker = Talker()


def sse(text: str) -> list[tuple[str, str]]:
    """The (event, data) pairs of a server-sent event stream."""
    found: list[tuple[str, str]] = []
    for block in text.split('\n\n'):
        if not block.strip():
            continue
        kind, data = 'message', []
        for line in block.splitlines():
            field, _, value = line.partition(':')
            if field == 'event':
                kind = value.strip()
            elif field == 'data':
                data.append(value.removeprefix(' '))
        found.append((kind, '\n'.join(data)))
    return found


class Blocked:
    """A workflow that waits forever once started, to be left by its client."""

    def __init__(self) -> None:
        self.started = anyio.Event()

        @podium.step
        async def waits(text: str) -> str:
            self.started.set()
            await anyio.sleep_forever()
            return text

        self.workflow = waits


class Eventful(Step[str, str]):
    """Sends every event the page draws (a route, a failed attempt, partial output discarded and streamed again, a
    fallback), then waits for `release` so a test can look at the page mid-run."""

    name = 'eventful'
    input_class = str
    output_class = str
    record_kind = 'agent'

    def __init__(self) -> None:
        self.release = threading.Event()

    async def _run(self, input: str, scope: StepScope) -> str:
        path = scope.tree_path
        scope.emit(RouteDecided(path=path, route='main', confidence=0.75, reason='looks like the main case'))
        scope.emit(
            AttemptFailed(
                path=path, attempt=1, error='ModelHTTPError', message='overloaded', status_code=529, retry_in_s=0.5
            )
        )
        scope.emit(OutputDelta(path=path, text='draft'))
        scope.emit(OutputDiscarded(path=path, reason='the attempt failed'))
        scope.emit(OutputDelta(path=path, text='Hel'))
        scope.emit(OutputDelta(path=path, text='lo'))
        scope.emit(FallbackTaken(path=path, reason='server_error', to='backup'))
        await anyio.to_thread.run_sync(self.release.wait)
        return f'Hello, {input}'


@contextlib.contextmanager
def serving(application: Any) -> Iterator[str]:
    """`application` on uvicorn in a thread of this process, on a free port; yields its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(application, log_level='warning'))
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    url = f'http://127.0.0.1:{sock.getsockname()[1]}'
    thread = threading.Thread(target=server.run, kwargs={'sockets': [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):  # until the server accepts
            try:
                httpx.get(f'{url}/openapi.json', timeout=5)
                break
            except httpx.TransportError:
                threading.Event().wait(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def serve_command(*options: str) -> Iterator[str]:
    """`podium serve` on the support desk with `options`, on a free port, in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, '-m', 'podium.cli', 'serve', f'{DESK}:workflow', '--port', '0', '--no-access-log', *options],
        stderr=subprocess.PIPE,
        text=True,
        env=SRC_ENV,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r'http://127\.0\.0\.1:\d+', line)
        assert found, f'podium serve said {line!r}'
        _wait_until_accepting(found.group())
        yield found.group()
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _wait_until_accepting(url: str) -> None:
    """uvicorn accepts connections once the app has started, just after the command says where it listens."""
    deadline = time.monotonic() + 90  # worker processes each import the workflow first
    while time.monotonic() < deadline:
        try:
            httpx.get(f'{url}/openapi.json', timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f'nothing accepted connections at {url}')
