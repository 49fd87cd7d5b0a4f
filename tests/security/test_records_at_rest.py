"""What outlives a run keeps no secret: durable checkpoints of failures, and what the command line prints."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pydantic_ai.exceptions import ModelAuthenticationError, ModelHTTPError
from pydantic_ai.usage import RunUsage

from podium._core._checkpoint import Checkpoint, _decode_error, encode
from podium._core._classify import status_code
from podium.cli import main

KEY = 'sk-proj-CANARYa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8'


def provider_error() -> ModelHTTPError:
    """A 401 whose body quotes the key, raised from the SDK's error that echoes the request's header."""
    error = ModelHTTPError(401, 'gpt-4o', {'message': f'Incorrect API key provided: {KEY}.', 'code': 'invalid_api_key'})
    error.__cause__ = RuntimeError(f"Error code: 401 - {{'authorization': 'Bearer {KEY}'}}")
    return error


REDACTED = (
    "status_code: 401, model_name: gpt-4o, body: {'message': 'Incorrect API key provided: [REDACTED].', "
    "'code': 'invalid_api_key'}"
)


def test_a_checkpointed_failure_stores_no_secret_and_replays_as_the_same_failure():
    stored = encode(Checkpoint(None, (), RunUsage(), provider_error()), {})

    assert b'CANARY' not in pickle.dumps(stored)
    assert stored['failure'] == f'ModelHTTPError: {REDACTED}'
    error = stored['error']
    assert isinstance(error, bytes)
    replayed = _decode_error(error)
    assert (type(replayed), status_code(replayed), str(replayed)) == (ModelHTTPError, 401, REDACTED)
    assert str(replayed.__cause__) == "Error code: 401 - {'authorization': '[REDACTED]'}"


def test_a_failure_of_a_class_that_does_not_pickle_is_stored_as_its_redacted_text():
    error = ModelHTTPError.for_category(
        ModelAuthenticationError, status_code=401, model_name='gpt-4o', body={'message': f'Bad key {KEY}.'}
    )

    stored = encode(Checkpoint(None, (), RunUsage(), error), {})

    assert b'CANARY' not in pickle.dumps(stored)
    stored_error = stored['error']
    assert isinstance(stored_error, bytes)
    assert str(_decode_error(stored_error)) == (
        "ModelAuthenticationError: status_code: 401, model_name: gpt-4o, body: {'message': 'Bad key [REDACTED].'}"
    )


def test_the_command_line_prints_no_secret_of_a_failed_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    app = tmp_path / 'app.py'
    app.write_text(
        'import podium\n\n'
        '@podium.step\n'
        'def call(text: str) -> str:\n'
        f"    raise RuntimeError('provider said: Incorrect API key provided: {KEY}')\n\n"
        'workflow = call\n'
    )

    assert main(['run', f'{app}:workflow', 'hello']) == 1

    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: step 'call' failed: RuntimeError: provider said: Incorrect API key provided: [REDACTED]",
        '  call: failed (RuntimeError: provider said: Incorrect API key provided: [REDACTED])',
    ]


def test_the_command_line_prints_no_secret_of_a_workflow_that_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    app = tmp_path / 'broken_app.py'
    app.write_text(f"raise ImportError('no client for OPENAI_API_KEY={KEY}')\n")

    assert main(['run', f'{app}:workflow', 'hello']) == 2

    assert capsys.readouterr().err == 'error: no client for OPENAI_API_KEY=[REDACTED]\n'
