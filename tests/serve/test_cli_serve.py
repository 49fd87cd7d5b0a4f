"""`podium serve`: the command starts the app on uvicorn; what stops it early is one line and exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest
from serve_flows import DESK, SRC_ENV, serve_command

from podium.cli import main

pytestmark = pytest.mark.needs_extras  # starlette, uvicorn and the AG-UI types, from the serve extra


def test_serve_runs_the_workflow_over_http(served: str):
    with httpx.Client(base_url=served, timeout=30) as client:
        page = client.get('/')
        assert page.status_code == 200
        assert 'support_desk' in page.text
        run = client.post('/run', json='the app crashes at startup')
        assert run.status_code == 200
        assert run.json()['output']['team'] == 'tech'
        assert client.post('/run', json={'wrong': 1}).status_code == 422


def test_workers_serve_from_several_processes():
    with serve_command('--workers', '2') as url, httpx.Client(base_url=url, timeout=30) as client:
        answers = [client.post('/run', json='refund please') for _ in range(4)]
        assert {a.status_code for a in answers} == {200}
        assert {a.json()['output']['team'] for a in answers} == {'billing'}


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


@pytest.mark.parametrize('missing', ['starlette', 'uvicorn'])
def test_without_the_serve_extra_the_command_says_what_to_install(missing: str):
    script = (
        f'import sys; sys.modules[{missing!r}] = None\n'  # as if it were not installed
        'from podium.cli import main\n'
        f'sys.exit(main(["serve", {DESK + ":workflow"!r}]))\n'
    )
    done = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, env=SRC_ENV, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith('error: podium')
    assert done.stderr.rstrip().endswith("pip install 'podium[serve]'")
    assert len(done.stderr.splitlines()) == 1
