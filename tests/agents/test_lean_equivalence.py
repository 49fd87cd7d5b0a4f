"""The lean path against `Agent.run`: the same scripted models see the same requests and give the same results.

Every scenario runs twice, on two identical agents over two identical scripted models: once on the lean path
(the default) and once with `lean=False`. What the models received (messages without timestamps and run ids,
tool definitions, settings, request parameters, instructions), the outputs, usage, records and errors must match.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError, UnexpectedModelBehavior
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelResponse,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.output import NativeOutput, PromptedOutput, ToolOutput
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.usage import RequestUsage, UsageLimits

import podium
from podium import RouteDecision, Router, WorkflowError

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


class Ticket(BaseModel):
    topic: str
    priority: int = Field(ge=1, le=5)
    tags: list[str]


Mode = Literal['auto', 'tool', 'native', 'prompted', 'text']
MODES: tuple[Mode, ...] = ('auto', 'tool', 'native', 'prompted', 'text')
Shape = Literal['tool', 'text', 'unknown_tool', 'two_tools', 'empty', 'thinking']

NATIVE_PROFILE = ModelProfile(supports_json_schema_output=True)


def output_type(mode: Mode) -> Any:
    return {
        'auto': Ticket,
        'tool': ToolOutput(Ticket, name='save_ticket'),
        'native': NativeOutput(Ticket),
        'prompted': PromptedOutput(Ticket),
        'text': str,
    }[mode]


@dataclass(frozen=True)
class Reply:
    """One scripted answer: what the model says, in which shape."""

    shape: Shape
    payload: str


@dataclass
class Script:
    """A scripted model: answers in order, records what it is sent, fails when it runs out of answers."""

    replies: Sequence[Reply]
    seen: list[tuple[list[ModelMessage], AgentInfo]] = field(default_factory=list[tuple[list[ModelMessage], AgentInfo]])

    def model(self, *, profile: ModelProfile | None = None, settings: dict[str, Any] | None = None) -> FunctionModel:
        async def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            n = len(self.seen)
            self.seen.append((copy.deepcopy(messages), info))
            if n >= len(self.replies):
                raise ModelHTTPError(503, 'scripted', body='no more scripted replies')
            return respond(self.replies[n], info, n)

        return FunctionModel(scripted, profile=profile, settings=settings)  # pyright: ignore[reportArgumentType]


def respond(reply: Reply, info: AgentInfo, n: int) -> ModelResponse:
    usage = RequestUsage(input_tokens=40 + 7 * n, output_tokens=9 + n)
    tool = info.output_tools[0].name if info.output_tools else 'final_result'
    parts: list[Any] = {
        'tool': [ToolCallPart(tool, reply.payload, tool_call_id=f'call-{n}')],
        'text': [TextPart(reply.payload)],
        'unknown_tool': [ToolCallPart('no_such_tool', reply.payload, tool_call_id=f'call-{n}')],
        'two_tools': [
            ToolCallPart(tool, reply.payload, tool_call_id=f'call-{n}a'),
            ToolCallPart(tool, reply.payload, tool_call_id=f'call-{n}b'),
        ],
        'empty': [],
        'thinking': [ThinkingPart('hmm')],
    }[reply.shape]
    return ModelResponse(parts=parts, usage=usage, model_name='scripted-model')


VOLATILE = frozenset({'timestamp', 'run_id', 'conversation_id'})


def stable(value: Any) -> Any:
    """JSON-able messages without the values every run makes afresh."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [stable(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def requests_seen(seen: Script | list[tuple[list[ModelMessage], AgentInfo]]) -> list[dict[str, Any]]:
    """What the model was sent, request by request, comparable across runs."""
    return [
        {
            'messages': stable(ModelMessagesTypeAdapter.dump_python(messages, mode='json')),
            'function_tools': info.function_tools,
            'output_tools': info.output_tools,
            'allow_text_output': info.allow_text_output,
            'model_settings': info.model_settings,
            'model_request_parameters': info.model_request_parameters,
            'instructions': info.instructions,
        }
        for messages, info in (seen.seen if isinstance(seen, Script) else seen)
    ]


def outcome(result: podium.RunResult[Any] | None, error: WorkflowError | None) -> dict[str, Any]:
    """A run's output or error, usage and records, without the path, which is meant to differ."""
    if result is not None:
        steps = [{k: v for k, v in r.summary().items() if k != 'path'} for r in result.steps]
        return {'output': result.output, 'usage': result.usage, 'steps': steps}
    assert error is not None
    steps = [{k: v for k, v in r.summary().items() if k != 'path'} for r in error.records]
    return {'error': f'{type(error).__name__}: {error}', 'usage': error.usage, 'steps': steps}


@dataclass
class Run:
    script: Script
    result: podium.RunResult[Any] | None
    error: WorkflowError | None

    @property
    def path(self) -> str | None:
        records = self.result.steps if self.result is not None else self.error.records if self.error else ()
        return records[0].path if records else None


AgentFactory = Callable[[FunctionModel], Agent[None, Any]]


async def run_on(
    make_agent: AgentFactory,
    replies: Sequence[Reply],
    *,
    lean: bool,
    prompt: str = 'the printer is on fire',
    limits: UsageLimits | None = None,
    profile: ModelProfile | None = None,
    model_settings: dict[str, Any] | None = None,
    runs: int = 1,
) -> Run:
    """Run a fresh agent `runs` times on the same script; the script spans all runs."""
    script = Script(replies)
    step = podium.agent(
        make_agent(script.model(profile=profile, settings=model_settings)), lean=None if lean else False
    )
    result: podium.RunResult[Any] | None = None
    error: WorkflowError | None = None
    for _ in range(runs):
        try:
            result = await step.run(prompt, usage_limits=limits)
        except WorkflowError as exc:
            result, error = None, exc
            break
    return Run(script, result, error)


async def assert_equivalent(make_agent: AgentFactory, replies: Sequence[Reply], **kwargs: Any) -> tuple[Run, Run]:
    lean = await run_on(make_agent, replies, lean=True, **kwargs)
    agent = await run_on(make_agent, replies, lean=False, **kwargs)
    assert requests_seen(lean.script) == requests_seen(agent.script)
    assert outcome(lean.result, lean.error) == outcome(agent.result, agent.error)
    assert agent.path == 'agent'
    return lean, agent


def ticket_agent(mode: Mode, *, retries: int = 1, **kwargs: Any) -> AgentFactory:
    def make(model: FunctionModel) -> Agent[None, Any]:
        return Agent(
            model,
            output_type=output_type(mode),
            instructions='File the ticket.',
            name='filer',
            retries=retries,
            **kwargs,
        )

    return make


# ---------------------------------------------------------------- generated outputs

tickets = st.fixed_dictionaries(
    {
        'topic': st.text(max_size=12),
        'priority': st.integers(min_value=1, max_value=5),
        'tags': st.lists(st.text(max_size=6), max_size=3),
    }
)
broken_tickets = st.one_of(
    tickets.map(lambda t: {**t, 'priority': 9}),
    tickets.map(lambda t: {k: v for k, v in t.items() if k != 'tags'}),
    tickets.map(lambda t: {**t, 'tags': 'not a list'}),
)
payloads = st.one_of(
    tickets.map(json.dumps),
    broken_tickets.map(json.dumps),
    st.sampled_from(['{"topic": ', 'not json at all', '', '```json\n{"topic": "x", "priority": 2, "tags": []}\n```']),
)
shapes = st.sampled_from(['tool', 'tool', 'text', 'text', 'unknown_tool', 'two_tools', 'empty', 'thinking'])
replies = st.lists(st.builds(Reply, shape=shapes, payload=payloads), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mode=st.sampled_from(MODES),
    retries=st.integers(min_value=0, max_value=2),
    script=replies,
    request_limit=st.sampled_from([None, 1, 2, 3]),
)
async def test_both_paths_send_the_same_requests_and_end_the_same_way(
    mode: Mode, retries: int, script: list[Reply], request_limit: int | None
):
    limits = UsageLimits(request_limit=request_limit) if request_limit is not None else None
    profile = NATIVE_PROFILE if mode == 'native' else None
    lean, _ = await assert_equivalent(ticket_agent(mode, retries=retries), script, limits=limits, profile=profile)

    # One tool call or text that ends the run in one request is exactly what the lean path reads itself.
    ended_at_once = lean.result is not None and len(lean.script.seen) == 1
    if ended_at_once and script[0].shape in ('tool', 'text'):
        assert lean.path == 'lean'


@pytest.mark.parametrize('mode', MODES)
async def test_a_valid_first_answer_takes_the_lean_path_in_every_output_mode(mode: Mode):
    valid = Reply(
        'text' if mode in ('native', 'prompted', 'text') else 'tool', '{"topic": "fire", "priority": 5, "tags": []}'
    )
    profile = NATIVE_PROFILE if mode == 'native' else None

    lean, _ = await assert_equivalent(ticket_agent(mode), [valid] * 3, profile=profile, runs=3)

    assert lean.path == 'lean'
    assert lean.result is not None
    assert lean.result.usage.requests == 1


@pytest.mark.parametrize('mode', ['auto', 'tool', 'native', 'prompted'])
async def test_an_invalid_answer_is_retried_with_the_agents_own_retry_prompt(mode: Mode):
    wrong = Reply('text' if mode in ('native', 'prompted') else 'tool', '{"topic": "fire", "priority": 7, "tags": []}')
    right = Reply(wrong.shape, '{"topic": "fire", "priority": 5, "tags": []}')
    profile = NATIVE_PROFILE if mode == 'native' else None

    lean, _ = await assert_equivalent(ticket_agent(mode), [wrong, right], profile=profile)

    assert len(lean.script.seen) == 2
    assert lean.result is not None
    assert lean.result.output == Ticket(topic='fire', priority=5, tags=[])
    assert lean.result.usage.requests == 2
    assert lean.path == 'agent'  # the agent finished the run it was handed


async def test_output_that_stays_invalid_raises_the_agents_error_after_its_retries():
    wrong = Reply('tool', '{"topic": "fire"}')

    lean, _ = await assert_equivalent(ticket_agent('auto', retries=2), [wrong] * 5)

    assert lean.error is not None
    assert 'UnexpectedModelBehavior: Exceeded maximum output retries (2)' in str(lean.error)
    assert len(lean.script.seen) == 3


async def test_settings_system_prompts_and_instructions_reach_the_model_unchanged():
    def make(model: FunctionModel) -> Agent[None, Ticket]:
        return Agent(
            model,
            output_type=Ticket,
            instructions=['File the ticket.', 'Be brief.'],
            system_prompt=('You are a filing clerk.', 'Never invent tags.'),
            model_settings={'temperature': 0.2, 'max_tokens': 300},
            name='filer',
        )

    valid = Reply('tool', '{"topic": "fire", "priority": 5, "tags": ["hw"]}')
    lean, _ = await assert_equivalent(make, [valid], model_settings={'max_tokens': 100, 'top_p': 0.5})

    info = lean.script.seen[0][1]
    assert info.model_settings == {'max_tokens': 300, 'top_p': 0.5, 'temperature': 0.2}
    assert info.instructions == 'File the ticket.\n\nBe brief.'
    assert lean.path == 'lean'


async def test_a_multimodal_prompt_is_sent_as_given():
    valid = Reply('tool', '{"topic": "fire", "priority": 5, "tags": []}')
    runs: list[Run] = []
    for lean in (True, False):
        script = Script([valid])
        agent = ticket_agent('auto')(script.model())
        step = podium.agent(
            agent, prompt=lambda text: [text, 'see the photo'], input_type=str, lean=None if lean else False
        )
        runs.append(Run(script, await step.run('the printer is on fire'), None))

    assert requests_seen(runs[0].script) == requests_seen(runs[1].script)
    assert runs[0].path == 'lean'


async def test_a_model_error_is_the_same_error_on_both_paths():
    lean, _ = await assert_equivalent(ticket_agent('auto'), [])

    assert lean.error is not None
    assert 'ModelHTTPError' in str(lean.error)
    assert lean.path == 'lean'


WRONG = Reply('tool', '{"topic": "fire"}')
RIGHT = Reply('tool', '{"topic": "fire", "priority": 5, "tags": []}')


@pytest.mark.parametrize(
    ('limits', 'script'),
    [
        (UsageLimits(request_limit=1), [WRONG, RIGHT]),
        (UsageLimits(total_tokens_limit=45), [RIGHT]),
        (UsageLimits(output_tokens_limit=5), [RIGHT]),
        (UsageLimits(input_tokens_limit=45), [WRONG, RIGHT]),
        (UsageLimits(total_tokens_limit=45), [WRONG, RIGHT]),
    ],
)
async def test_usage_limits_stop_both_paths_at_the_same_point(limits: UsageLimits, script: list[Reply]):
    lean, _ = await assert_equivalent(ticket_agent('auto'), script, limits=limits)

    assert lean.error is not None
    assert type(lean.error).__name__ == 'BudgetExceeded'


async def test_the_capture_never_calls_the_model():
    script = Script([Reply('tool', '{"topic": "fire", "priority": 5, "tags": []}')])
    step = podium.agent(ticket_agent('auto')(script.model()))

    await step.run('the printer is on fire')

    assert len(script.seen) == 1


async def test_the_router_gets_the_lean_path_and_the_same_decisions():
    def router_reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = json.dumps(ModelMessagesTypeAdapter.dump_python(messages, mode='json'))
        route = 'billing' if 'invoice' in prompt else 'invented'
        args = json.dumps({'route': route, 'confidence': 0.8, 'reason': 'keywords'})
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args, tool_call_id='r')])

    seen: dict[str, list[tuple[list[ModelMessage], AgentInfo]]] = {'router': [], 'agent': []}

    def recording(key: str) -> FunctionModel:
        async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            seen[key].append((copy.deepcopy(messages), info))
            return router_reply(messages, info)

        return FunctionModel(answer, model_name='router-model')

    echo = podium.step(lambda text: f'handled: {text}', name='echo')
    instructions = 'Route the message.'
    router = Router(
        {'billing': echo, 'other': echo}, fallback='other', model=recording('router'), instructions=instructions
    )
    twin = Agent(recording('agent'), output_type=RouteDecision[Literal['billing', 'other']], instructions=instructions)

    for text in ('my invoice is wrong', 'hello there'):
        result = await router.run(text)
        if 'invoice' in text:
            await twin.run(text)
        else:
            with pytest.raises(UnexpectedModelBehavior):  # the twin has no fallback: an invented route is an error
                await twin.run(text)
        assert result.record('router').route == ('billing' if 'invoice' in text else 'other')

    lean_requests = requests_seen(seen['router'])
    agent_requests = requests_seen(seen['agent'])
    assert lean_requests == agent_requests
    assert len(lean_requests) == 3  # one lean request, then the invented route and its retry on the agent path


class Refusal(BaseModel):
    reason: str


@pytest.mark.parametrize(
    ('spec', 'replies'),
    [
        (int, [Reply('tool', '{"response": 3}')]),
        (int, [Reply('tool', '{"response": "three"}'), Reply('tool', '{"response": 3}')]),
        ([Ticket, Refusal], [Reply('tool', '{"topic": "fire", "priority": 1, "tags": []}')]),
        (NativeOutput([Ticket, Refusal]), [Reply('text', '{"result": {"kind": "Refusal", "data": {"reason": "no"}}}')]),
        (NativeOutput([Ticket, Refusal]), [Reply('text', '{"result": {"kind": "Nope", "data": {}}}')] * 3),
    ],
    ids=['int', 'int-retried', 'union-tools', 'native-union', 'native-union-invalid'],
)
async def test_primitive_and_union_outputs_are_read_as_the_agent_reads_them(spec: Any, replies: list[Reply]):
    def make(model: FunctionModel) -> Agent[None, Any]:
        return Agent(model, output_type=spec, name='filer')

    lean, _ = await assert_equivalent(make, replies, profile=NATIVE_PROFILE)

    if len(replies) == 1:
        assert lean.path == 'lean'
        assert lean.result is not None
