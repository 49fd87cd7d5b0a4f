"""pyright and mypy both reject a mistyped `>>` and infer the types of a well-typed chain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / 'chain_types.py'
MISTYPED_LINES = [i for i, line in enumerate(FIXTURE.read_text().splitlines(), 1) if '# MISTYPED:' in line]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=FIXTURE.parents[2])


@pytest.mark.timeout(300)
def test_pyright_reports_only_the_mistyped_lines():
    proc = _run([sys.executable, '-m', 'pyright', '--outputjson', '--pythonpath', sys.executable, str(FIXTURE)])
    report = json.loads(proc.stdout)
    errors = [d for d in report['generalDiagnostics'] if d['severity'] == 'error']

    assert sorted({e['range']['start']['line'] + 1 for e in errors}) == MISTYPED_LINES, errors
    assert 'Facts' in errors[0]['message']


@pytest.mark.timeout(300)
def test_mypy_reports_only_the_mistyped_lines():
    proc = _run(
        [
            sys.executable,
            '-m',
            'mypy',
            '--strict',
            '--no-incremental',
            '--cache-dir=/dev/null',
            '--hide-error-context',
            '--no-error-summary',
            str(FIXTURE),
        ]
    )
    errors = [line for line in proc.stdout.splitlines() if ': error:' in line]
    lines = sorted({int(line.split(':')[1]) for line in errors})

    assert lines == MISTYPED_LINES, proc.stdout
    assert 'AgentStep[Plan, Answer, object]' in errors[0]
