"""Every bad input ends in one line on stderr and a documented exit code, never a traceback (unless --debug)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from podium.cli import main

pytestmark = pytest.mark.needs_extras  # reaches an optional extra (evals, durable, psycopg, bench peers) at run time

USAGE, FAILED = 2, 1


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The only line on stderr."""
    err = capsys.readouterr().err
    assert 'Traceback' not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def console(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the console script's entry point in a process of its own."""
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(sys.path)}
    script = 'from podium.cli import console_main; console_main()'
    return subprocess.run(
        [sys.executable, '-c', script, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_a_module_that_raises_at_import_is_one_redacted_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str
):
    app = tmp_path / 'app.py'
    app.write_text(f"raise RuntimeError('cannot connect: api_key={secret}')\n")

    assert main(['run', f'{app}:workflow', 'hello']) == USAGE

    assert one_line(capsys) == (
        f"error: importing '{app}' failed: RuntimeError: cannot connect: api_key=[REDACTED]; fix the module "
        '(--debug shows where)'
    )


def test_the_console_script_answers_like_main(tmp_path: Path, secret: str):
    app = tmp_path / 'app.py'
    app.write_text(f"raise RuntimeError('cannot connect: api_key={secret}')\n")

    done = console('run', 'app.py:workflow', 'hello', cwd=tmp_path)

    assert done.returncode == USAGE
    assert done.stderr == (
        "error: importing 'app.py' failed: RuntimeError: cannot connect: api_key=[REDACTED]; fix the module "
        '(--debug shows where)\n'
    )
    assert done.stdout == ''


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    app = tmp_path / 'app.py'
    app.write_text('import podium\n\ndef broken(:\n    pass\n')

    assert main(['graph', f'{app}:workflow']) == USAGE

    assert one_line(capsys) == f'error: syntax error in {app}, line 3: invalid syntax; fix the file'


def test_a_case_file_that_is_not_utf8(tmp_path: Path, flows: str, capsys: pytest.CaptureFixture[str]):
    cases = tmp_path / 'latin1.yaml'
    cases.write_bytes('cases:\n  - {name: café, inputs: crème brûlée}\n'.encode('latin-1'))

    assert main(['eval', f'{flows}:echo', str(cases)]) == USAGE

    assert one_line(capsys) == (
        f"error: cannot read case file '{cases}': byte 21 is not UTF-8 (invalid continuation byte); save the file "
        'as UTF-8'
    )


@pytest.mark.parametrize(
    ('text', 'problem'),
    [
        (
            '{"text": "printer on fire", "priority": "high"}',
            'priority: Input should be a valid integer, unable to parse string as an integer',
        ),
        ('{"text": "printer on fire"}', 'priority: Field required'),
        ("{text: 'printer on fire'}", 'Invalid JSON: key must be a string at line 1 column 2'),
        ('printer on fire', 'Invalid JSON: expected value at line 1 column 1'),
    ],
)
def test_json_input_that_fails_the_input_type(text: str, problem: str, flows: str, capsys: pytest.CaptureFixture[str]):
    assert main(['run', f'{flows}:triage', text]) == USAGE

    assert one_line(capsys) == (
        f"error: the input does not fit Ticket: {problem}; workflow 'triage' takes a JSON object with the fields "
        '"text", "priority", "note" (optional)'
    )


@pytest.mark.parametrize(
    'command', [['runs'], ['runs', 'show', 'some-run'], ['run', '--durable', 'cli_flows:echo', 'hi']]
)
def test_an_unsupported_db_scheme(command: list[str], flows: str, capsys: pytest.CaptureFixture[str]):
    pytest.importorskip('dbos')

    assert main([*command, '--db', 'mysql://podium:hunter2@localhost/runs']) == USAGE

    line = one_line(capsys)
    assert line.startswith("error: db='mysql://podium:")
    assert line.endswith('is neither sqlite:///path/to/file.sqlite nor postgresql://user@host/database')
    assert 'hunter2' not in line


def test_an_unwritable_json_path_stops_before_any_case_runs(
    tmp_path: Path, flows: str, cases: str, capsys: pytest.CaptureFixture[str]
):
    not_a_dir = tmp_path / 'notes.txt'
    not_a_dir.write_text('a file, not a directory')
    target = not_a_dir / 'report.json'

    assert main(['eval', 'cli_flows:counted', cases, '--json', str(target)]) == USAGE

    assert one_line(capsys) == (
        f"error: cannot write --json '{target}': Not a directory; choose a path in an existing, writable directory"
    )
    assert sys.modules.get('cli_flows') is None  # not even imported: no case ran


def test_a_step_that_exits_0_is_a_failed_run(flows: str, capsys: pytest.CaptureFixture[str]):
    assert main(['run', f'{flows}:quits', 'hello']) == FAILED

    assert one_line(capsys) == (
        'error: the workflow called exit(0) instead of returning or raising; a step must not exit the process, so '
        'the run failed (--debug shows the traceback)'
    )


def test_a_step_that_exits_0_fails_the_real_process(tmp_path: Path, flows: str):
    done = console('run', 'cli_flows.py:quits', 'hello', cwd=tmp_path)

    assert done.returncode == FAILED
    assert done.stderr.startswith('error: the workflow called exit(0) instead of returning or raising')
    assert len(done.stderr.splitlines()) == 1
    assert done.stdout == ''


def test_a_failing_durable_run_prints_one_redacted_line(tmp_path: Path, flows: str, secret: str):
    pytest.importorskip('dbos')

    done = console('run', 'cli_flows.py:leaks', 'hello', '--db', f'sqlite:///{tmp_path / "runs.sqlite"}', cwd=tmp_path)

    assert done.returncode == FAILED
    assert 'Traceback' not in done.stderr
    assert secret not in done.stderr
    announce, error = done.stderr.splitlines()  # the run id, said when the run starts, then the error
    assert announce.startswith('run ')
    assert error == "error: step 'leaks' failed: ValueError: provider said: Incorrect API key provided: [REDACTED]"


@pytest.mark.parametrize(
    ('args', 'code', 'line'),
    [
        (['graph', '{flows}:not_a_step'], USAGE, "error: '{flows}:not_a_step' is of type int, not a podium Step"),
        (['graph', 'missing.py:workflow'], USAGE, "error: no file 'missing.py'"),
        (['graph', '{flows}:nothing'], USAGE, "error: '{flows}' has no attribute 'nothing'"),
        (['graph', 'no_such_module_xyz:workflow'], USAGE, "error: cannot import module 'no_such_module_xyz'"),
        (['graph', 'cli_flows'], USAGE, "error: 'cli_flows' is not of the form path/to/file.py:attr"),
        (['run', '{flows}:echo', ''], USAGE, "error: the input is empty; workflow 'echo' takes text"),
        (['run', '{flows}:triage', ' '], USAGE, "error: the input is empty; workflow 'triage' takes Ticket as JSON"),
        (['run', '{flows}:echo'], USAGE, 'error: podium run: the following arguments are required: input'),
        (['eval', '{flows}:echo', 'c.yaml', '--max-concurrency', '0'], USAGE, 'error: podium eval: argument'),
        (['eval', '{flows}:echo', 'c.yaml', '--fail-under', '2'], USAGE, 'error: podium eval: argument --fail-under'),
        (['runs', '--limit', 'many'], USAGE, "error: podium runs: argument --limit: 'many' is not a whole number"),
        (['deploy'], USAGE, "error: podium: argument command: invalid choice: 'deploy'"),
        ([], USAGE, 'error: podium: the following arguments are required: command'),
    ],
)
def test_every_other_bad_argument_is_one_line(
    args: list[str], code: int, line: str, flows: str, capsys: pytest.CaptureFixture[str]
):
    assert main([arg.format(flows=flows) for arg in args]) == code

    assert one_line(capsys).startswith(line.format(flows=flows))


def test_debug_adds_the_traceback_before_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str):
    app = tmp_path / 'app.py'
    app.write_text(f"raise RuntimeError('cannot connect: api_key={secret}')\n")

    assert main(['run', f'{app}:workflow', 'hello', '--debug']) == USAGE

    err = capsys.readouterr().err
    assert err.startswith('Traceback (most recent call last):')
    assert 'raise RuntimeError' in err
    assert err.splitlines()[-1].startswith(f"error: importing '{app}' failed: RuntimeError")


def test_help_documents_the_exit_codes_and_debug(capsys: pytest.CaptureFixture[str]):
    assert main(['--help']) == 0
    top = capsys.readouterr().out
    assert main(['eval', '--help']) == 0
    evaluate = capsys.readouterr().out

    codes = top[top.index('exit codes:') :].splitlines()
    assert [line.split()[0] for line in codes[1:] if line[:3].strip().isdigit()] == ['0', '1', '2', '3', '130']
    assert '--debug' in evaluate
    assert 'exit codes:' in evaluate
    assert 'default 8' in evaluate
