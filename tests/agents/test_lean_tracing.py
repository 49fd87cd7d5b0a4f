"""With tracing on, a lean call leaves the spans `Agent.run` leaves, or those without the `<agent> run` span.

With `agent_run_spans=True` a lean call's spans are the agent's, attribute for attribute. By default podium's step
span stands in for the agent's run span: the same `chat` span, with the same attributes, nests directly under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from inline_snapshot import snapshot
from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.output import PromptedOutput

import podium
from podium.testing import ScriptedModel, TraceCapture, capture_trace, render_span_tree

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@pytest.fixture
def exporter() -> Iterator[TraceCapture]:
    """Tracing on, with message content and the agents' run spans: the layout `Agent.run` leaves."""
    with capture_trace(include_content=True, agent_run_spans=True) as capture:
        yield capture


@pytest.fixture
def compact_exporter() -> Iterator[TraceCapture]:
    """Tracing on, with message content, in the default layout."""
    with capture_trace(include_content=True) as capture:
        yield capture


class Answer(BaseModel):
    text: str


IDS = re.compile(r'pyd_ai_[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


def finished(capture: TraceCapture) -> list[ReadableSpan]:
    spans = capture.spans()
    capture.clear()
    return spans


def described(spans: list[ReadableSpan]) -> list[tuple[str, dict[str, Any]]]:
    """Each span's name and attributes, with run and tool call ids blanked and the podium path left out."""
    return [
        (span.name, {k: IDS.sub('<id>', v) if isinstance(v, str) else v for k, v in (span.attributes or {}).items()})
        for span in spans
    ]


async def traced_run(
    exporter: TraceCapture, *, lean: bool, answers: list[Any], output_type: Any = Answer, default: Any = None
) -> list[ReadableSpan]:
    default = Answer(text='ok') if default is None else default
    model = ScriptedModel(responses=[default, *answers], default=default, model_name='m')
    agent = Agent(model, output_type=output_type, name='answerer', instructions='Answer briefly.')
    step = podium.agent(agent, lean=None if lean else False)
    await step.run('warm up')  # the lean path captures its request on the first call
    finished(exporter)
    await step.run('hello')
    return finished(exporter)


@pytest.mark.parametrize(
    ('output_type', 'default'),
    [(Answer, None), (PromptedOutput(Answer), None), (str, 'plain words')],
    ids=['tool', 'prompted', 'text'],
)
async def test_a_lean_call_leaves_the_agents_spans_with_the_agents_attributes(
    exporter: TraceCapture, output_type: Any, default: Any
):
    lean = described(await traced_run(exporter, lean=True, answers=[], output_type=output_type, default=default))
    agent = described(await traced_run(exporter, lean=False, answers=[], output_type=output_type, default=default))

    for (_, lean_attributes), (_, agent_attributes) in zip(lean, agent, strict=True):
        if 'podium.path' in lean_attributes:
            assert (lean_attributes.pop('podium.path'), agent_attributes.pop('podium.path')) == ('lean', 'agent')
    assert lean == agent
    assert [name for name, _ in lean] == ['chat m', 'invoke_agent answerer', 'podium run']


@pytest.mark.parametrize(
    ('output_type', 'default'),
    [(Answer, None), (PromptedOutput(Answer), None), (str, 'plain words')],
    ids=['tool', 'prompted', 'text'],
)
async def test_by_default_the_step_span_stands_in_for_the_agents_run_span(
    compact_exporter: TraceCapture, output_type: Any, default: Any
):
    exporter = compact_exporter
    lean_spans = await traced_run(exporter, lean=True, answers=[], output_type=output_type, default=default)
    agent_spans = await traced_run(exporter, lean=False, answers=[], output_type=output_type, default=default)
    lean, agent = described(lean_spans), described(agent_spans)

    assert [name for name, _ in lean] == ['chat m', 'podium run']
    assert [name for name, _ in agent] == ['chat m', 'invoke_agent answerer', 'podium run']
    # The chat span is the agent's, baggage-borne agent name and run ids included; only its parent differs.
    assert lean[0] == agent[0]
    assert lean[0][1]['gen_ai.agent.name'] == 'answerer'
    chat, step = lean_spans[0], lean_spans[1]  # the agent step is the workflow: its span is the run's
    assert chat.parent is not None
    assert step.context is not None
    assert chat.parent.span_id == step.context.span_id


async def test_the_capture_leaves_no_spans(compact_exporter: TraceCapture):
    agent = Agent(ScriptedModel(default=Answer(text='ok'), model_name='m'), output_type=Answer, name='answerer')

    await podium.agent(agent).run('hello')

    assert render_span_tree(finished(compact_exporter)) == snapshot("""\
podium run answerer (status=ok path=lean usage.requests=1)
  chat m\
""")


async def test_a_handed_off_call_nests_the_agents_run_under_the_lean_one(exporter: TraceCapture):
    spans = await traced_run(exporter, lean=True, answers=[{'wrong': 'shape'}, Answer(text='fixed')])

    # The first request was sent once, by the lean call; inside the agent's run it is replayed, not resent.
    assert render_span_tree(spans) == snapshot("""\
podium run answerer (status=ok path=agent attempts=2 usage.requests=2)
  answerer run
    chat m
    answerer run
      chat m
      chat m\
""")
