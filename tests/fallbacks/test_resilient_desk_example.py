from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / 'examples'))
from resilient_desk import run_session

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


async def test_every_run_ends_answered_or_degraded_through_outages():
    lines: list[str] = []
    session = await run_session(runs=12, fault_rate=0.3, seed=1, every=0.02, out=lines.append)
    assert session.outcomes['failed'] == 0
    assert session.outcomes['ok'] + session.outcomes['degraded'] == 12
    assert session.outcomes['degraded'] >= 1  # both models were down for two runs
    assert session.breakers['gpt-4o'].opened >= 1
    assert len(lines) == 13
    assert lines[-1].startswith('\n12 runs: ')
