"""`podium eval` on routed workflows: a model cascade against always-strong, and a semantic router's escalations."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from podium.cli import main

EXAMPLES = Path(__file__).parents[2] / 'examples'
CASCADE = f'{EXAMPLES / "model_cascade.py"}:workflow'
CASCADE_CASES = str(EXAMPLES / 'model_cascade_cases.yaml')
SEMANTIC_DESK = f'{EXAMPLES / "semantic_desk.py"}:workflow'
DESK = f'{EXAMPLES / "support_desk.py"}:workflow'
DESK_CASES = str(EXAMPLES / 'support_desk_cases.yaml')
TARGET_QUALITY = 0.95
"""The quality target examples/model_cascade.py calibrates its threshold for."""
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def _report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_the_calibrated_cascade_keeps_its_target_quality_for_less_than_always_strong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)

    code = main(['eval', CASCADE, CASCADE_CASES, '--json', 'r.json', '--plot', 'curve.png'])

    assert code == 0
    report = _report(tmp_path / 'r.json')
    assert report['strong_tier'] == 'strong'
    assert report['quality_vs_strong'] >= TARGET_QUALITY
    assert 0 < report['cost_vs_strong'] < 1
    assert 0 < report['escalation_rate'] < 1
    escalated = [r['escalated'] for r in report['results']]
    assert report['escalation_rate'] == pytest.approx(sum(escalated) / len(escalated))
    assert report['usage']['cost_usd'] > 0  # priced with the router's prices, as the ratio is
    png = (tmp_path / 'curve.png').read_bytes()
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 10_000
    out = capsys.readouterr().out
    assert 'Cost-quality curve, against always-strong' in out
    assert '0.72 (chosen)' in out
    chosen = next(line for line in out.splitlines() if '0.72 (chosen)' in line)
    assert f'{report["quality_vs_strong"]:.1%}' in chosen  # the curve at the router's threshold is the run itself
    assert f'{report["cost_vs_strong"]:.1%}' in chosen


def test_without_a_cascade_plot_is_an_error_and_the_cascade_metrics_are_null(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(['eval', DESK, DESK_CASES, '--plot', str(tmp_path / 'curve.png')]) == 2
    assert "workflow 'guarded(support_desk)' has no ModelRouter" in capsys.readouterr().err
    assert not (tmp_path / 'curve.png').exists()

    assert main(['eval', DESK, DESK_CASES, '--json', str(tmp_path / 'r.json')]) == 0
    report = _report(tmp_path / 'r.json')
    assert all(report[key] is None for key in ('strong_tier', 'cost_vs_strong', 'quality_vs_strong', 'escalation_rate'))


def test_the_semantic_router_is_judged_and_its_escalations_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    # The case file names the LLM router, which the semantic desk reaches only when unsure.
    assert main(['eval', SEMANTIC_DESK, DESK_CASES, '--json', str(tmp_path / 's.json')]) == 0

    report = _report(tmp_path / 's.json')
    # The semantic desk has no guards: the rows that expect one to trip cannot be judged on it.
    unguarded = [r for r in report['results'] if r['status'] == 'error']
    assert len(unguarded) == 30
    assert {r['name'].split('_')[0] for r in unguarded} == {'injection', 'secret', 'policy'}
    judged = report['cases'] - len(unguarded)
    assert sum(map(sum, report['confusion']['matrix'])) == judged == 58
    assert not any('no router ran' in f for r in report['results'] for f in r['failures'])
    escalated = sum(bool(r['escalated']) for r in report['results'])
    assert 0 < escalated < judged
    assert report['escalation_rate'] == pytest.approx(escalated / judged)
    assert report['strong_tier'] is None
    out = capsys.readouterr().out
    assert f'escalated         │ {escalated} of {judged} cases ({escalated / judged:.1%})' in out


UNPRICED = """\
    from pydantic import BaseModel
    from pydantic_ai import Agent

    import podium
    from podium.routers import ConfidenceCheck, ModelRouter
    from podium.testing import ScriptedModel


    class Answer(BaseModel):
        value: int
        confidence: float


    def tier(name: str, confidence: float) -> podium.Step[str, Answer]:
        model = ScriptedModel(default={'value': 4, 'confidence': confidence}, model_name=f'unpriced-{name}')
        return podium.agent(Agent(model, output_type=Answer, name=name))


    workflow = ModelRouter(
        {'cheap': tier('cheap', 0.3), 'strong': tier('strong', 0.9)}, accept=ConfidenceCheck('confidence')
    )
"""
UNPRICED_CASES = """\
    cases:
      - {name: one, inputs: 'What is 2 + 2?', output: {value: 4}}
      - {name: two, inputs: 'What is 3 + 1?', output: {value: 4}}
"""


def test_a_cascade_without_prices_has_an_unknown_cost_ratio_and_no_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / 'unpriced.py').write_text(textwrap.dedent(UNPRICED))
    (tmp_path / 'cases.yaml').write_text(textwrap.dedent(UNPRICED_CASES))
    args = ['eval', f'{tmp_path / "unpriced.py"}:workflow', str(tmp_path / 'cases.yaml')]

    assert main([*args, '--json', str(tmp_path / 'r.json'), '--plot', str(tmp_path / 'curve.png')]) == 2

    report = _report(tmp_path / 'r.json')
    assert (report['cost_vs_strong'], report['quality_vs_strong'], report['escalation_rate']) == (None, 1.0, 1.0)
    captured = capsys.readouterr()
    assert 'cost vs always strong    │ unknown: a model has no price' in captured.out
    assert "error: cannot draw the cost-quality curve: no price known for 'unpriced-cheap'" in captured.err
    assert not (tmp_path / 'curve.png').exists()
