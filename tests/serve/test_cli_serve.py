"""`podium serve`: the command starts the app on uvicorn; what stops it early is one line and exit 2."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serve_flows import DESK

from podium.cli import main

pytestmark = pytest.mark.needs_extras  # starlette, uvicorn and the AG-UI types, from the serve extra

SRC = str(Path(__file__).parents[2] / 'src')


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
        yield found.group()
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def test_serve_runs_the_workflow_over_http(served: str):
    with httpx.Client(base_url=served, timeout=30) as client:
        for _ in range(200):  # uvicorn accepts once the app has started
            try:
                page = client.get('/')
                break
            except httpx.ConnectError:
                pass
        assert page.status_code == 200
        assert 'support_desk' in page.text
        run = client.post('/run', json='the app crashes at startup')
        assert run.status_code == 200
        assert run.json()['output']['team'] == 'tech'
        assert client.post('/run', json={'wrong': 1}).status_code == 422


def test_a_taken_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(['serve', f'{DESK}:workflow', '--port', str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: cannot listen on 127.0.0.1:{port}: ')
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ('arguments', 'message'),
    [
        (['--max-body-bytes', '0'], 'argument --max-body-bytes: must be at least 1, got 0'),
        (['--port', '70000'], '--port must be between 0 and 65535, got 70000'),
    ],
)
def test_bad_options_are_usage_errors(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]):
    assert main(['serve', f'{DESK}:workflow', *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.splitlines()) == 1


def test_a_reference_that_does_not_load_is_a_usage_error(capsys: pytest.CaptureFixture[str]):
    assert main(['serve', 'no_such_file.py:workflow']) == 2
    assert capsys.readouterr().err == "error: no file 'no_such_file.py'\n"


def test_serve_is_in_the_help(capsys: pytest.CaptureFixture[str]):
    assert main(['--help']) == 0
    assert 'serve a workflow over HTTP' in capsys.readouterr().out
