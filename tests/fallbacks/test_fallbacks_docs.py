"""The example of docs/fallbacks.md runs as written and prints what the text says, and its tables match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_fault_matrix import CASES

DOC = (Path(__file__).parents[2] / 'docs' / 'fallbacks.md').read_text()


def test_the_composition_runs_as_written(capsys: pytest.CaptureFixture[str]):
    code = re.findall(r'```python\n(.*?)```', DOC, flags=re.S)[0]
    exec(compile(code, 'docs/fallbacks.md', 'exec'), {'__name__': 'docs_example'})
    assert capsys.readouterr().out == "Paris degraded ('fallback(city, city_large): invalid_output',)\n"


def test_the_fault_matrix_table_lists_every_case():
    table = DOC.split('## The fault matrix')[1].split('\n\n')[2]
    rows = [line for line in table.splitlines() if re.match(r'\| \d+ \|', line)]
    assert len(rows) == len(CASES)
    assert [int(row.split('|')[1]) for row in rows] == [int(name[:2]) for name in CASES]
    hits = [tuple(int(n) for n in row.split('|')[4].split(',')) for row in rows]
    assert hits == [case.hits for case in CASES.values()]
