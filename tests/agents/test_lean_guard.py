"""The lean path's guard: checked once against the installed Pydantic-AI, it steps aside with one warning on a mismatch.

Every scenario breaks the lean path's view of Pydantic-AI a different way (an internal gone, a self-test whose two
requests differ, an internal that raises) and runs a two-step workflow three times: every step must then run
through `Agent.run`, give the outputs and usage the lean path gives, and warn exactly once.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any

import anyio
import pydantic_ai.agent
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent

import podium
from podium.agents import _lean
from podium.agents import _pydantic_ai_internals as internals
from podium.agents._pydantic_ai_internals import LeanPathUnavailable
from podium.agents._streaming import StepStream
from podium.agents._template import RequestTemplate
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio

VERSION = importlib.metadata.version('pydantic-ai-slim')


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture(autouse=True)
def unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts in a process that has not checked Pydantic-AI yet."""
    monkeypatch.setattr(internals, '_CHECK', internals._Check())  # pyright: ignore[reportPrivateUsage]


class Summary(BaseModel):
    text: str
    words: int


def workflow() -> podium.Step[str, Summary]:
    first = Agent(ScriptedModel(default=Summary(text='short', words=1)), name='first', output_type=Summary)
    second = Agent(
        ScriptedModel(default=Summary(text='shorter', words=1)),
        name='second',
        output_type=Summary,
        instructions='Shorten.',
    )
    return podium.agent(first) >> podium.agent(second, prompt=lambda summary: summary.text)


async def three_runs() -> list[tuple[Any, ...]]:
    """Output, usage and the path of each step, for three runs of a fresh workflow."""
    flow = workflow()
    seen: list[tuple[Any, ...]] = []
    for text in ('a long text', 'another text', 'a third text'):
        result = await flow.run(text)
        seen.append((result.output, result.usage, result.record('first').path, result.record('second').path))
    return seen


def on_path(runs: list[tuple[Any, ...]], path: str) -> list[tuple[Any, ...]]:
    return [(output, usage, path, path) for output, usage, *_ in runs]


def drop_an_internal(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delattr(pydantic_ai.agent, '_registered_capability_count')
    return 'missing pydantic_ai.agent._registered_capability_count'


def make_the_requests_differ(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(RequestTemplate, 'settings', lambda self: {'temperature': 0.5})  # pyright: ignore[reportUnknownLambdaType]
    return "the lean request differs from the agent's in model_settings"


def make_an_internal_raise(monkeypatch: pytest.MonkeyPatch) -> str:
    def renamed(*args: object, **kwargs: object) -> None:
        raise AttributeError("module 'pydantic_ai._agent_graph' has no attribute '_billed_by_request'")

    monkeypatch.setattr(internals, 'count_response', renamed)
    return "the self-test raised AttributeError: module 'pydantic_ai._agent_graph' has no attribute"


def make_the_streamed_request_fail(monkeypatch: pytest.MonkeyPatch) -> str:
    def changed(*args: object) -> None:  # as `start_request_deadline` failed when it began to ask for `stream=`
        raise TypeError("start_request_deadline() missing 1 required keyword-only argument: 'stream'")

    monkeypatch.setattr(internals, '_start_stream_deadline', changed)
    return 'the self-test raised TypeError: start_request_deadline() missing 1 required keyword-only argument'


def make_the_streamed_events_differ(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(StepStream, 'send', lambda self, event: None)  # pyright: ignore[reportUnknownLambdaType]
    return "the lean request differs from the agent's in streamed events"


@pytest.mark.parametrize(
    'breakage',
    [
        drop_an_internal,
        make_the_requests_differ,
        make_an_internal_raise,
        make_the_streamed_request_fail,
        make_the_streamed_events_differ,
    ],
)
async def test_a_mismatch_sends_every_step_through_agent_run_with_one_warning(
    breakage: Callable[[pytest.MonkeyPatch], str], monkeypatch: pytest.MonkeyPatch
):
    lean_runs = await three_runs()
    assert lean_runs == on_path(lean_runs, 'lean')

    with monkeypatch.context() as patch:
        patch.setattr(internals, '_CHECK', internals._Check())  # pyright: ignore[reportPrivateUsage]
        reason = breakage(patch)
        with pytest.warns(LeanPathUnavailable) as caught:
            guarded_runs = await three_runs()

    assert guarded_runs == on_path(lean_runs, 'agent')
    assert len(caught) == 1
    message = str(caught[0].message)
    assert reason in message
    assert f'pydantic-ai-slim {VERSION}' in message


async def test_the_check_runs_once_for_concurrent_first_calls(monkeypatch: pytest.MonkeyPatch):
    calls: list[None] = []
    self_test = _lean._self_test  # pyright: ignore[reportPrivateUsage]

    async def counted() -> str | None:
        calls.append(None)
        return await self_test()

    monkeypatch.setattr(_lean, '_self_test', counted)
    flow = workflow()
    outputs: list[Summary] = []

    async def one(text: str) -> None:
        outputs.append((await flow.run(text)).output)

    async with anyio.create_task_group() as group:
        for n in range(5):
            group.start_soon(one, f'text {n}')
    assert outputs == [Summary(text='shorter', words=1)] * 5
    assert (await flow.run('later')).record('second').path == 'lean'
    assert len(calls) == 1


async def test_a_cancelled_check_is_run_again_by_the_next_call(monkeypatch: pytest.MonkeyPatch):
    async def stalled() -> str | None:
        await anyio.sleep_forever()
        raise AssertionError('unreachable')

    with monkeypatch.context() as patch:
        patch.setattr(_lean, '_self_test', stalled)
        with anyio.move_on_after(0.05):
            await workflow().run('cut short')
    assert (await workflow().run('again')).record('first').path == 'lean'


def test_every_internal_the_module_lists_is_present_in_the_installed_pydantic_ai():
    assert internals.missing_internals() == []
