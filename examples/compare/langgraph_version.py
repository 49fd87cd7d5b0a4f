# pyright: basic
# LangGraph ships no type stubs and its graph builder is typed loosely: strict mode would flag the peer, not this code.
"""The workflow in LangGraph: a state dict, three nodes and a conditional edge; LangChain fake chat models."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage
from langgraph.graph import END, START, StateGraph

from .common import ANSWER_JSON, ESCALATE_JSON, Reply, Ticket, classify_json


class State(TypedDict):
    message: str
    ticket: Ticket
    reply: Reply


def build() -> Any:
    escalate_llm = FakeListChatModel(responses=[ESCALATE_JSON])
    answer_llm = FakeListChatModel(responses=[ANSWER_JSON])

    async def classify(state: State) -> dict[str, Any]:
        llm = FakeListChatModel(responses=[classify_json(state['message'])])  # stands in for a real classifier
        message = await llm.ainvoke([HumanMessage(state['message'])])
        return {'ticket': Ticket.model_validate_json(str(message.content))}

    async def escalate(state: State) -> dict[str, Any]:
        message = await escalate_llm.ainvoke([HumanMessage(state['ticket'].model_dump_json())])
        return {'reply': Reply.model_validate_json(str(message.content))}

    async def answer(state: State) -> dict[str, Any]:
        message = await answer_llm.ainvoke([HumanMessage(state['ticket'].model_dump_json())])
        return {'reply': Reply.model_validate_json(str(message.content))}

    graph = StateGraph(State)
    graph.add_node('classify', classify)
    graph.add_node('escalate', escalate)
    graph.add_node('answer', answer)
    graph.add_edge(START, 'classify')

    def route(state: State) -> str:
        return 'escalate' if state['ticket'].urgent else 'answer'

    graph.add_conditional_edges('classify', route)
    graph.add_edge('escalate', END)
    graph.add_edge('answer', END)
    return graph.compile()


app = build()


async def run(message: str) -> Reply:
    state: State = await app.ainvoke({'message': message})
    return state['reply']
