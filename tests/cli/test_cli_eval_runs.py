"""`podium eval` runs a bounded number of cases at once and writes its files whole or not at all."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from podium.cli import main
from podium.evals._run import DEFAULT_MAX_CONCURRENCY


def peak() -> int:
    """The most `counted` steps that ran at once in the last eval."""
    return sys.modules['cli_flows'].peak


@pytest.mark.parametrize(('flag', 'limit'), [([], DEFAULT_MAX_CONCURRENCY), (['--max-concurrency', '3'], 3)])
def test_cases_never_run_more_than_the_limit_at_once(flag: list[str], limit: int, flows: str, cases: str):
    assert main(['eval', 'cli_flows:counted', cases, *flag]) == 0

    assert DEFAULT_MAX_CONCURRENCY == 8
    assert peak() == limit  # 40 cases, each waiting a moment: the limit is reached and never passed


def test_the_report_replaces_the_old_one_whole(tmp_path: Path, flows: str, cases: str):
    report = tmp_path / 'report.json'
    report.write_text('the previous report')
    report.chmod(0o640)

    assert main(['eval', 'cli_flows:echo', cases, '--json', str(report)]) == 0

    assert json.loads(report.read_text())['passed'] == 40
    assert report.stat().st_mode & 0o777 == 0o640
    assert list(tmp_path.glob('.report.json.*')) == []  # the temporary file became the report


def test_an_eval_that_stops_leaves_the_old_report_and_no_temporary_file(
    tmp_path: Path, flows: str, cases: str, capsys: pytest.CaptureFixture[str]
):
    report = tmp_path / 'report.json'
    report.write_text('the previous report')
    baseline = tmp_path / 'baseline.json'
    baseline.write_text('{"not": "a report"}')

    assert main(['eval', 'cli_flows:echo', cases, '--json', str(report), '--compare', str(baseline)]) == 2

    assert capsys.readouterr().err.startswith(f"error: '{baseline}' is not a report written by podium eval --json")
    assert report.read_text() == 'the previous report'
    assert list(tmp_path.glob('.report.json.*')) == []


def test_a_directory_is_no_output_path(tmp_path: Path, flows: str, cases: str, capsys: pytest.CaptureFixture[str]):
    assert main(['eval', 'cli_flows:echo', cases, '--json', str(tmp_path)]) == 2

    assert capsys.readouterr().err == f"error: --json '{tmp_path}' is a directory; give a file path\n"


def test_fail_under_has_its_own_exit_code(tmp_path: Path, flows: str, cases: str, capsys: pytest.CaptureFixture[str]):
    half = tmp_path / 'half.yaml'
    half.write_text('cases:\n  - {name: right, inputs: a, output: a}\n  - {name: wrong, inputs: b, output: c}\n')

    assert main(['eval', 'cli_flows:echo', str(half), '--fail-under', '60%']) == 3
    assert main(['eval', 'cli_flows:echo', str(half), '--fail-under', '50%']) == 0

    assert 'pass rate 50.0% is below --fail-under 60.0%' in capsys.readouterr().out
