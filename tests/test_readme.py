"""Every Python block of the README runs, so the README never goes stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / 'README.md'
BLOCKS = re.findall(r'```python\n(.*?)```', README.read_text(), flags=re.S)


def test_the_readme_has_python_examples():
    assert BLOCKS


@pytest.mark.parametrize('code', BLOCKS, ids=[f'block{i}' for i in range(len(BLOCKS))])
def test_readme_block_runs(code: str):
    exec(compile(code, str(README), 'exec'), {'__name__': '__readme__'})


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    quick_start = README.read_text().split('## Quick start', 1)[1]
    commands = re.search(r'```bash\n(.*?)```', quick_start, flags=re.S)
    assert commands is not None
    lines = commands.group(1).strip().splitlines()
    assert len(lines) == 2
    assert 'examples/support_desk.py' in lines[0]
    ci = (README.parent / '.ci' / 'run').read_text()
    assert lines[1] in ci
