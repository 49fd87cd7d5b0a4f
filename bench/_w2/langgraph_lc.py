"""LangGraph whose nodes call `ChatOpenAI.with_structured_output` on the W2 server: W1's graph, real client.

Every `ChatOpenAI` of the graph shares one httpx client (the pool of ``pai_raw.openai_client``), as an application
passing ``http_async_client`` would, with the same timeout and no retries. Structured output uses function calling,
the tool-call path Pydantic-AI's output tools take and W1's LangGraph system measures.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph

from bench._w1.langgraph_lc import STATE_KEYS, W1State, step_node
from bench._w1.workload import ROUTER_INSTRUCTIONS, ROUTES, STEP_TYPES, Answer, RouteDecision, RunOne
from bench._w2.harness import MODEL, main
from bench._w2.pai_raw import TIMEOUT, openai_client


def build_graph(base_url: str) -> Any:
    http_client = openai_client(base_url)._client  # the pool, shared by every ChatOpenAI below

    def structured(output_type: type) -> Any:
        llm = ChatOpenAI(
            model=MODEL['openai'],
            base_url=f'{base_url}/v1',
            api_key='w2',
            http_async_client=http_client,
            timeout=TIMEOUT,
            max_retries=0,
        )
        return llm.with_structured_output(output_type, method='function_calling')

    router_llm = structured(RouteDecision)

    async def router(state: W1State) -> dict[str, Any]:
        return {'decision': await router_llm.ainvoke([SystemMessage(ROUTER_INSTRUCTIONS), HumanMessage(state['text'])])}

    graph = StateGraph(W1State)
    graph.add_node('router', router)
    graph.add_edge(START, 'router')
    graph.add_conditional_edges('router', lambda state: state['decision'].route, {r: f'{r}_step1' for r in ROUTES})
    for route in ROUTES:
        for i, output_type in enumerate(STEP_TYPES):
            name = f'{route}_step{i + 1}'
            graph.add_node(name, step_node(route, i + 1, structured(output_type)))
            graph.add_edge(name, f'{route}_step{i + 2}' if i < 2 else END)
    assert STATE_KEYS[-1] == 'answer'
    return graph.compile()


async def build(provider: str, base_url: str) -> RunOne:
    graph = build_graph(base_url)

    async def run_one(text: str) -> Answer:
        return (await graph.ainvoke({'text': text}))['answer']

    return run_one


if __name__ == '__main__':
    main(build, packages=['langgraph', 'langchain-core', 'langchain-openai', 'openai'])
