"""pyright (strict) infers the types of every wrapper and rejects a wrapped step of the wrong output type."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / 'fallback_types.py'
MISTYPED_LINE = next(i for i, line in enumerate(FIXTURE.read_text().splitlines(), 1) if line.endswith('# MISTYPED'))


@pytest.mark.timeout(300)
def test_pyright_reports_only_the_mistyped_wrapper():
    done = subprocess.run(
        [sys.executable, '-m', 'pyright', '--outputjson', '--pythonpath', sys.executable, str(FIXTURE)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=FIXTURE.parents[2],
        check=False,
    )
    errors = [d for d in json.loads(done.stdout)['generalDiagnostics'] if d['severity'] == 'error']
    assert [(e['range']['start']['line'] + 1, e.get('rule')) for e in errors] == [
        (MISTYPED_LINE, 'reportAssignmentType')
    ], errors
