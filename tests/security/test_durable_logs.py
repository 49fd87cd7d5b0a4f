"""A failing durable run leaves its provider error's secrets in no log line and no checkpoint.

DBOS logs a failed step and workflow with the exception's text; the run is made in a fresh process (DBOS runs one
store per process) whose stderr is all of what it logged.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CANARY = 'CANARY'
KEY = f'sk-proj-{CANARY}a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8'

pytestmark = pytest.mark.needs_extras  # runs a durable workflow in a subprocess

APP = f"""
import logging
import sys

import anyio
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.models.function import FunctionModel

import podium
from podium.durable import durable

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)


def provider(messages, info):
    body = {{'error': {{'message': 'Incorrect API key provided: {KEY}'}}}}
    body['headers'] = {{'authorization': 'Bearer {KEY}'}}
    raise ModelHTTPError(401, 'gpt-4o', body)


async def main() -> None:
    desk = durable(podium.agent(Agent(FunctionModel(provider), name='answer')), db=sys.argv[1])
    try:
        await desk.run('hello', run_id='leaky')
    except podium.WorkflowError as error:
        print('failed:', error)
        logging.getLogger('podium').exception('the durable run failed: %s', error.__cause__)


anyio.run(main)
"""


def readable(cell: object) -> str:
    """A stored value as text, decoded when DBOS stored it as base64 (its pickled inputs, outputs and errors)."""
    text = cell.decode('latin-1') if isinstance(cell, bytes) else str(cell)
    try:
        return text + base64.b64decode(text, validate=True).decode('latin-1')
    except (binascii.Error, ValueError):
        return text


def test_a_failing_durable_run_logs_and_checkpoints_no_secret(tmp_path: Path):
    app = tmp_path / 'app.py'
    app.write_text(APP)
    db = tmp_path / 'runs.sqlite'

    done = subprocess.run(
        [sys.executable, str(app), f'sqlite:///{db}'], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )

    assert done.stdout.startswith('failed: '), done.stderr
    assert 'Incorrect API key provided: [REDACTED]' in done.stderr  # the error was logged, redacted
    assert (CANARY in done.stdout, CANARY in done.stderr) == (False, False), done.stderr
    with sqlite3.connect(db) as connection:
        tables = [name for (name,) in connection.execute("select name from sqlite_master where type = 'table'")]
        stored = [row for table in tables for row in connection.execute(f'select * from "{table}"')]
    assert stored
    assert any('[REDACTED]' in readable(cell) for row in stored for cell in row)  # the failure was checkpointed
    assert [row for row in stored if any(CANARY in readable(cell) for cell in row)] == []
