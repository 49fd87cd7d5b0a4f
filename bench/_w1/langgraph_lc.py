"""LangGraph whose nodes call a LangChain chat model through its structured-output path.

Graph: START -> router -> (conditional edge on the route) -> <route>_step1 -> <route>_step2 -> <route>_step3
-> END; ten nodes, four of which run per W1 run. No checkpointer.

Every node awaits ``llm.ainvoke([SystemMessage(instructions), HumanMessage(prompt)])`` where ``llm`` is
``FakeToolChatModel(...).with_structured_output(OutputType)``: LangChain's standard function-calling path,
``bind_tools`` with the pydantic schema followed by ``PydanticToolsParser``. That is the same work as one
Pydantic-AI agent run with an output tool.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, StateGraph

from bench._w1.workload import (
    FAKE_USAGE,
    ROUTER_INSTRUCTIONS,
    ROUTES,
    STEP_TYPES,
    Answer,
    Facts,
    Plan,
    RouteDecision,
    RunOne,
    fake_latency,
    main,
    router_json,
    step_answer,
    step_instructions,
    step_prompt,
)


class FakeToolChatModel(BaseChatModel):
    """Answers every call with one call of the bound tool, its arguments decoded from the fixed JSON text.

    Natively async: LangChain would run a sync-only fake in a thread pool, which no provider integration does.
    Decoding the arguments with ``json.loads`` is what integrations such as ChatOpenAI do with a tool call.
    """

    answer: Callable[[str], str]  # prompt -> fixed JSON text

    @property
    def _llm_type(self) -> str:
        return 'w1-fake-tool-chat-model'

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice, **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError('async only')

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        await fake_latency()
        tool_name = kwargs['tools'][0]['function']['name']
        message = AIMessage(
            content='',
            tool_calls=[{'name': tool_name, 'args': json.loads(self.answer(messages[-1].content)), 'id': 'call_1'}],
            usage_metadata={**FAKE_USAGE, 'total_tokens': sum(FAKE_USAGE.values())},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


class W1State(TypedDict, total=False):
    text: str
    decision: RouteDecision
    facts: Facts
    plan: Plan
    answer: Answer


# The state key each node writes: the router's, then chain step 1, 2 and 3's. Step i reads key i - 1.
STATE_KEYS = ('decision', 'facts', 'plan', 'answer')


def structured(answer: Callable[[str], str], output_type: type) -> Runnable[LanguageModelInput, Any]:
    return FakeToolChatModel(answer=answer).with_structured_output(output_type)


def step_node(route: str, step: int, llm: Runnable[LanguageModelInput, Any]) -> Callable[[W1State], Any]:
    instructions = step_instructions(route, step)

    async def node(state: W1State) -> dict[str, Any]:
        prompt = step_prompt(state['text'], route, step, state[STATE_KEYS[step - 1]])
        return {STATE_KEYS[step]: await llm.ainvoke([SystemMessage(instructions), HumanMessage(prompt)])}

    return node


def build_graph() -> Any:
    router_llm = structured(router_json, RouteDecision)

    async def router(state: W1State) -> dict[str, Any]:
        return {'decision': await router_llm.ainvoke([SystemMessage(ROUTER_INSTRUCTIONS), HumanMessage(state['text'])])}

    graph = StateGraph(W1State)
    graph.add_node('router', router)
    graph.add_edge(START, 'router')
    graph.add_conditional_edges('router', lambda state: state['decision'].route, {r: f'{r}_step1' for r in ROUTES})
    for route in ROUTES:
        for i, output_type in enumerate(STEP_TYPES):
            name = f'{route}_step{i + 1}'
            llm = structured(step_answer(route, i + 1), output_type)
            graph.add_node(name, step_node(route, i + 1, llm))
            graph.add_edge(name, f'{route}_step{i + 2}' if i < 2 else END)
    return graph.compile()


async def build() -> RunOne:
    graph = build_graph()

    async def run_one(text: str) -> Answer:
        return (await graph.ainvoke({'text': text}))['answer']

    return run_one


if __name__ == '__main__':
    main(build, packages=['langgraph', 'langchain-core'])
