"""The support desk of examples/, as an object and served by `podium serve`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_flows import DESK, EXAMPLES

SRC = str(Path(__file__).parents[2] / 'src')


@pytest.fixture(scope='session')
def desk() -> Any:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from support_desk import workflow
    finally:
        sys.path.remove(str(EXAMPLES))
    return workflow


@pytest.fixture
def served() -> Iterator[str]:
    """`podium serve` on the support desk, on a free port, in its own process; yields its base URL."""
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [SRC, os.environ.get('PYTHONPATH')]))}
    process = subprocess.Popen(
        [sys.executable, '-m', 'podium.cli', 'serve', f'{DESK}:workflow', '--port', '0', '--no-access-log'],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r'http://127\.0\.0\.1:\d+', line)
        assert found, f'podium serve said {line!r}'
        _wait_until_accepting(found.group())
        yield found.group()
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _wait_until_accepting(url: str) -> None:
    """uvicorn accepts connections once the app has started, just after the command says where it listens."""
    for _ in range(400):
        try:
            httpx.get(f'{url}/openapi.json', timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f'nothing accepted connections at {url}')
