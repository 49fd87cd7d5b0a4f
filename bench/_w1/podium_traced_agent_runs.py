"""``podium_traced`` with `instrument(agent_run_spans=True)`: each lean call also opens Pydantic-AI's run span."""

from __future__ import annotations

from bench._w1.podium_traced import build_traced
from bench._w1.workload import RunOne, main


async def build() -> RunOne:
    return await build_traced(agent_run_spans=True)


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim', 'logfire'])
