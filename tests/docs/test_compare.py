"""The side-by-side versions of docs/coming-from/ run offline and return the same replies as podium's.

Each peer's module runs where the peer is installed (the bench extra installs them) and is skipped with a reason
otherwise; the podium and Pydantic-AI versions always run.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import anyio
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / 'examples'))

from compare.common import EXPECTED

pytestmark = pytest.mark.needs_extras  # reaches an optional extra (evals, durable, psycopg, bench peers) at run time

VERSIONS = {
    'podium_version': 'podium',
    'pydantic_ai_version': 'pydantic_ai',
    'langgraph_version': 'langgraph',
    'openai_agents_version': 'agents',
}


@pytest.mark.parametrize('module', sorted(VERSIONS))
@pytest.mark.parametrize('message', sorted(EXPECTED))
def test_every_version_returns_the_expected_reply(module: str, message: str) -> None:
    pytest.importorskip(VERSIONS[module], reason=f'{module} needs {VERSIONS[module]}: pip install -e ".[bench]"')
    if module == 'langgraph_version':
        pytest.importorskip('langchain_core', reason='langgraph_version needs langchain-core')
    version = importlib.import_module(f'compare.{module}')
    assert anyio.run(version.run, message) == EXPECTED[message]


def test_podium_records_which_way_the_branch_went() -> None:
    from compare.podium_version import desk

    result = desk.run_sync('I was charged twice, urgent!')
    assert [(r.name, r.route) for r in result.steps] == [
        ('desk', None),
        ('classify', None),
        ('urgent?', 'then'),
        ('escalate', None),
    ]
    assert result.usage.requests == 2
