"""``podium_default`` with only Pydantic-AI's instrumentation on: its run and chat spans, none of podium's."""

from __future__ import annotations

from bench._w1.podium_traced import build_traced
from bench._w1.workload import RunOne, main


async def build() -> RunOne:
    return await build_traced(podium_spans=False)


if __name__ == '__main__':
    main(build, packages=['pydantic-ai-slim', 'logfire'])
