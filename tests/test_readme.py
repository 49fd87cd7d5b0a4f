"""The README's Quick start stays two commands, the second the one CI runs.

Its Python blocks run (and their output is checked) with the docs pages in tests/docs/test_examples.py.
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[1] / 'README.md'


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    quick_start = README.read_text().split('## Quick start', 1)[1]
    commands = re.search(r'```bash\n(.*?)```', quick_start, flags=re.S)
    assert commands is not None
    lines = commands.group(1).strip().splitlines()
    assert len(lines) == 2
    assert 'examples/support_desk.py' in lines[0]
    ci = (README.parent / '.ci' / 'run').read_text()
    assert lines[1] in ci
