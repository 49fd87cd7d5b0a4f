"""The workflow in the OpenAI Agents SDK: three agents, `Runner.run` each, the branch in Python; a fake Model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from agents import Agent, ModelResponse, Runner, Usage, set_tracing_disabled
from agents.models.interface import Model, ModelTracing
from openai.types.responses import ResponseOutputMessage, ResponseOutputText

from .common import ANSWER_JSON, ESCALATE_JSON, Reply, Ticket, classify_json


class FakeModel(Model):
    """Answers one assistant message whose text is the JSON `answer` returns for the latest user input."""

    def __init__(self, answer: Callable[[str], str]) -> None:
        self.answer = answer

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[Any],
        model_settings: Any,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> ModelResponse:
        text = input if isinstance(input, str) else str(input[-1].get('content', ''))
        part = ResponseOutputText(text=self.answer(text), type='output_text', annotations=[])
        message = ResponseOutputMessage(
            id='msg_1', type='message', role='assistant', status='completed', content=[part]
        )
        return ModelResponse(output=[message], usage=Usage(requests=1), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError('this example does not stream')


set_tracing_disabled(True)
classify = Agent(name='classify', output_type=Ticket, model=FakeModel(classify_json))
escalate = Agent(name='escalate', output_type=Reply, model=FakeModel(lambda _: ESCALATE_JSON))
answer = Agent(name='answer', output_type=Reply, model=FakeModel(lambda _: ANSWER_JSON))


async def run(message: str) -> Reply:
    ticket = (await Runner.run(classify, message)).final_output_as(Ticket)
    next_agent = escalate if ticket.urgent else answer
    return (await Runner.run(next_agent, ticket.model_dump_json())).final_output_as(Reply)
