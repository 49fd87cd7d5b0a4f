"""`podium eval` on the support desk example, offline on its demo models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from inline_snapshot import snapshot

from podium.cli import main

EXAMPLES = Path(__file__).parents[2] / 'examples'
DESK = f'{EXAMPLES / "support_desk.py"}:workflow'
CASES = str(EXAMPLES / 'support_desk_cases.yaml')


def _eval(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / 'report.json'
    code = main(['eval', DESK, CASES, '--json', str(report), *args])
    return code, json.loads(report.read_text())


def test_the_support_desk_eval_reports_routes_steps_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code, report = _eval(tmp_path, '--max-concurrency', '8')

    assert code == 0
    numbers = {key: report[key] for key in ('cases', 'passed', 'failed', 'errors', 'pass_rate', 'router_accuracy')}
    assert numbers == snapshot(
        {
            'cases': 88,
            'passed': 74,
            'failed': 14,
            'errors': 0,
            'pass_rate': 0.8409090909090909,
            'router_accuracy': 0.8695652173913043,
        }
    )
    assert report['confusion'] == snapshot(
        {
            'labels': ['billing', 'out_of_scope', 'sales', 'tech'],
            'matrix': [[25, 0, 0, 0], [1, 6, 1, 0], [0, 1, 11, 1], [1, 4, 0, 18]],
        }
    )
    assert report['failures_by_step'] == snapshot({'support_desk': 9, 'sales_qualify': 3, 'billing_extract': 2})
    assert report['failures_by_route'] == snapshot({'tech': 5, 'sales': 5, 'out_of_scope': 2, 'billing': 2})
    assert {step: rate['rate'] for step, rate in report['step_pass_rates'].items()} == snapshot(
        {
            'secrets_guard': 1.0,
            'injection_guard': 1.0,
            'support_desk': 0.8695652173913043,
            'billing_extract': 0.8947368421052632,
            'tech_triage': 1.0,
            'sales_qualify': 0.7272727272727273,
            'refund_policy': 1.0,
            'needs_approval': 1.0,
            'refuse': 1.0,
        }
    )
    # The injection check runs beside the desk and cancels it when it trips, so how far a blocked case's desk got
    # (and what it spent) depends on scheduling; what holds is how the usage adds up.
    usage = report['usage']
    models = usage['models']
    assert sorted(models) == ['demo-billing', 'demo-injection', 'demo-router', 'demo-sales', 'demo-tech']
    for key in ('requests', 'input_tokens', 'output_tokens'):
        assert usage[key] == sum(model[key] for model in models.values())
    assert models['demo-injection']['requests'] == report['cases']  # one check per case, every case
    tripped = report['guards']['injection_guard']['true_positives']
    assert report['cases'] - tripped <= models['demo-router']['requests'] <= report['cases']
    assert report['pass_rate_by_tag'] == snapshot(
        {
            'adversarial': 1.0,
            'ambiguous': 0.5,
            'billing': 0.8666666666666667,
            'injection': 1.0,
            'out_of_scope': 0.75,
            'paraphrase': 0.0,
            'policy': 1.0,
            'roleplay': 1.0,
            'sales': 0.6666666666666666,
            'secrets': 1.0,
            'tech': 0.75,
        }
    )
    out = capsys.readouterr().out
    assert 'router accuracy   │ 87.0%' in out
    assert 'Guards: trips against the cases that expect them' in out
    assert 'Failures and errors, by the first step that went wrong' in out


def test_fail_under_exits_3_when_the_pass_rate_is_below_it(tmp_path: Path):
    assert _eval(tmp_path, '--fail-under', '90%')[0] == 3
    assert _eval(tmp_path, '--fail-under', '0.5')[0] == 0


def test_compare_shows_what_regressed_and_what_improved(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    _, report = _eval(tmp_path)
    results: list[dict[str, object]] = report['results']
    flipped = {'billing_charged_twice': 'failed', 'billing_billed_two_times': 'passed'}
    for result in results:
        result['status'] = flipped.get(str(result['name']), result['status'])
    baseline = tmp_path / 'baseline.json'
    baseline.write_text(json.dumps(report))
    capsys.readouterr()

    assert main(['eval', DESK, CASES, '--compare', str(baseline)]) == 0

    out = capsys.readouterr().out
    regressions = out[out.index('Regressed (1)') :]
    assert '\n'.join(line.rstrip() for line in regressions.splitlines()) == snapshot("""\
Regressed (1)
┏━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ case                     ┃ before ┃ after  ┃ step            ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ billing_billed_two_times │ passed │ failed │ billing_extract │
└──────────────────────────┴────────┴────────┴─────────────────┘

Improved (1)
┏━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━┓
┃ case                  ┃ before ┃ after  ┃ step ┃
┡━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━┩
│ billing_charged_twice │ failed │ passed │      │
└───────────────────────┴────────┴────────┴──────┘\
""")


def test_model_rebuilds_the_workflow_with_build_workflow(tmp_path: Path):
    code, report = _eval(tmp_path, '--model', 'test')
    assert code == 0
    assert (report['model'], report['cases'], sorted(report['usage']['models'])) == snapshot(('test', 88, ['test']))


def test_model_needs_a_build_workflow_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    module = tmp_path / 'plain.py'
    module.write_text('import podium\n\nworkflow = podium.step(lambda text: text, name="echo")\n')

    assert main(['eval', f'{module}:workflow', CASES, '--model', 'test']) == 2

    assert capsys.readouterr().err.replace(str(tmp_path), 'tmp') == snapshot(
        "error: --model needs 'tmp/plain.py' to define build_workflow(model), which builds the workflow on "
        'that model; it defines none\n'
    )


@pytest.mark.parametrize(
    ('args', 'message'),
    [
        ([DESK, 'missing.yaml'], snapshot("error: cannot read case file 'missing.yaml': No such file or directory\n")),
        (
            [f'{EXAMPLES / "support_desk.py"}:nothing', CASES],
            snapshot("error: 'examples/support_desk.py' has no attribute 'nothing'\n"),
        ),
        (
            [DESK, CASES, '--compare', CASES],
            snapshot(
                "error: 'examples/support_desk_cases.yaml' is not a report written by podium eval --json "
                '(top level: Invalid JSON: expected value at line 1 column 1)\n'
            ),
        ),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(args: list[str], message: str, capsys: pytest.CaptureFixture[str]):
    assert main(['eval', *args]) == 2
    assert capsys.readouterr().err.replace(str(EXAMPLES), 'examples') == message


def test_a_malformed_case_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    cases = tmp_path / 'broken.yaml'
    cases.write_text('cases:\n  - name: a\n    inputs: [unclosed\n')

    assert main(['eval', DESK, str(cases)]) == 2

    assert capsys.readouterr().err.replace(str(tmp_path), 'tmp') == snapshot("""\
error: tmp/broken.yaml is not valid YAML: while parsing a flow sequence
  in "<unicode string>", line 3, column 13:
        inputs: [unclosed
                ^
expected ',' or ']', but got '<stream end>'
  in "<unicode string>", line 4, column 1:
    \n\
    ^
""")


def test_a_module_reference_works_as_well_as_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    report = tmp_path / 'report.json'

    assert main(['eval', 'support_desk:workflow', CASES, '--json', str(report)]) == 0

    assert json.loads(report.read_text())['passed'] == 74
