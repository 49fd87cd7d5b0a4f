"""A durable run traces as a plain run does: DBOS's checkpointing wrappers leave no span of their own.

The run is made in a fresh process, since DBOS runs one store per process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from inline_snapshot import snapshot

pytestmark = pytest.mark.needs_extras  # runs a durable workflow in a subprocess

APP = """
import sys

import anyio
import logfire
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic_ai import Agent

import podium
import podium.durable
from podium.testing import ScriptedModel, render_span_tree

exporter = InMemorySpanExporter()
logfire_instance = logfire.configure(
    local=True, send_to_logfire=False, console=False, additional_span_processors=[SimpleSpanProcessor(exporter)]
)
podium.instrument(logfire_instance)
extract = podium.agent(Agent(ScriptedModel(default='a refund', model_name='m1'), name='extract'))
answer = podium.agent(Agent(ScriptedModel(default='on its way', model_name='m2'), name='answer'))
desk = (extract >> answer).named('desk')


async def main() -> None:
    await podium.durable.run(desk, 'refund my 42 EUR', db=sys.argv[1])


anyio.run(main)
print(render_span_tree(exporter.get_finished_spans()))
"""


def test_a_durable_run_has_the_span_tree_of_a_plain_run(tmp_path: Path):
    db = f'sqlite:///{tmp_path / "runs.sqlite"}'
    done = subprocess.run(
        [sys.executable, '-c', APP, db], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == snapshot("""\
podium run desk (status=ok usage.requests=2)
  podium step extract (status=ok path=lean usage.requests=1)
    chat m1
  podium step answer (status=ok path=lean usage.requests=1)
    chat m2
""")
