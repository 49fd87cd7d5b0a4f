from __future__ import annotations

from io import StringIO

from inline_snapshot import snapshot
from rich.console import Console, RenderableType

from podium.evals import (
    CaseResult,
    Confusion,
    ModelUsage,
    StepRate,
    UsageReport,
    WorkflowReport,
    compare_reports,
    render_diff,
    render_report,
)

BEFORE = WorkflowReport(
    workflow='desk',
    dataset='cases',
    results=[
        CaseResult(name='a', status='passed', expected_route='billing', route='billing', tags=['easy']),
        CaseResult(
            name='b',
            status='failed',
            step='desk',
            expected_route='tech',
            route='billing',
            failures=["desk.route: expected 'tech', got 'billing'"],
        ),
        CaseResult(name='c', status='passed', expected_route='tech', route='tech'),
        CaseResult(name='gone', status='passed'),
    ],
    confusion=Confusion(labels=['billing', 'tech'], matrix=[[1, 0], [1, 1]]),
    step_pass_rates={'desk': StepRate(passed=2, total=3)},
    usage=UsageReport(
        requests=6,
        input_tokens=300,
        output_tokens=60,
        models={'demo': ModelUsage(requests=6, input_tokens=300, output_tokens=60)},
    ),
)
AFTER = BEFORE.model_copy(
    update={
        'results': [
            CaseResult(name='a', status='passed', expected_route='billing', route='billing', tags=['easy']),
            CaseResult(name='b', status='passed', expected_route='tech', route='tech'),
            CaseResult(name='c', status='error', step='tech_triage', error='the workflow raised StepFailed: boom'),
            CaseResult(name='new', status='passed'),
        ],
        'confusion': Confusion(labels=['billing', 'tech'], matrix=[[1, 0], [0, 1]]),
        'step_pass_rates': {'desk': StepRate(passed=3, total=3), 'tech_triage': StepRate(passed=0, total=1)},
    }
)


def _text(renderable: RenderableType) -> str:
    console = Console(file=StringIO(), width=100, color_system=None)
    console.print(renderable)
    return '\n'.join(line.rstrip() for line in console.file.getvalue().splitlines())  # pyright: ignore[reportAttributeAccessIssue]


def test_a_report_round_trips_through_json_with_its_totals():
    data = BEFORE.model_dump(mode='json')
    assert {key: data[key] for key in ('cases', 'passed', 'router_accuracy', 'failures_by_step')} == snapshot(
        {'cases': 4, 'passed': 3, 'router_accuracy': 0.6666666666666666, 'failures_by_step': {'desk': 1}}
    )
    assert WorkflowReport.model_validate_json(BEFORE.model_dump_json()) == BEFORE


def test_compare_lists_what_regressed_and_what_improved():
    diff = compare_reports(BEFORE, AFTER)
    assert diff.model_dump(exclude_none=True) == snapshot(
        {
            'metrics': [
                {'name': 'pass rate', 'before': 0.75, 'after': 0.75, 'higher_is_better': True},
                {'name': 'router accuracy', 'before': 0.6666666666666666, 'after': 1.0, 'higher_is_better': True},
                {'name': 'desk pass rate', 'before': 0.6666666666666666, 'after': 1.0, 'higher_is_better': True},
                {'name': 'tech_triage pass rate', 'after': 0.0, 'higher_is_better': True},
            ],
            'regressed': [{'name': 'c', 'before': 'passed', 'after': 'error', 'step': 'tech_triage'}],
            'improved': [{'name': 'b', 'before': 'failed', 'after': 'passed', 'step': 'desk'}],
            'added': [{'name': 'new', 'after': 'passed'}],
            'removed': [{'name': 'gone', 'before': 'passed'}],
        }
    )


def test_the_report_renders_as_tables():
    assert _text(render_report(BEFORE)) == snapshot("""\
podium eval: desk on cases
┌───────────────────┬────────────────────────────────────┐
│ cases             │ 4                                  │
│ pass rate         │ 75.0% (3 passed)                   │
│ failed            │ 1                                  │
│ errors            │ 0                                  │
│ router accuracy   │ 66.7%                              │
│ failures by route │ tech 1                             │
│ usage             │ 6 requests, 300 in / 60 out tokens │
│ cost              │ unknown                            │
│ tag easy          │ 100.0%                             │
└───────────────────┴────────────────────────────────────┘

Router confusion
┏━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━┓
┃ expected \\ taken ┃ billing ┃ tech ┃
┡━━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━┩
│ billing          │       1 │    0 │
│ tech             │       1 │    1 │
└──────────────────┴─────────┴──────┘

Steps
┏━━━━━━┳━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┓
┃ step ┃ pass rate ┃ passed ┃ failures attributed ┃
┡━━━━━━╇━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━┩
│ desk │     66.7% │    2/3 │                   1 │
└──────┴───────────┴────────┴─────────────────────┘

Failures and errors, by the first step that went wrong
┏━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ case ┃ step ┃ what went wrong                       ┃
┡━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ b    │ desk │ route: expected 'tech', got 'billing' │
└──────┴──────┴───────────────────────────────────────┘

Usage by model
┏━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━┓
┃ model ┃ requests ┃ input tokens ┃ output tokens ┃    cost ┃
┡━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━┩
│ demo  │        6 │          300 │            60 │ unknown │
└───────┴──────────┴──────────────┴───────────────┴─────────┘\
""")


def test_the_comparison_renders_as_tables():
    assert _text(render_diff(compare_reports(BEFORE, AFTER))) == snapshot("""\
Compared with the baseline
┏━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━━┓
┃ metric                ┃ before ┃  after ┃ change ┃
┡━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━━┩
│ pass rate             │  75.0% │  75.0% │  +0.0% │
│ router accuracy       │  66.7% │ 100.0% │ +33.3% │
│ desk pass rate        │  66.7% │ 100.0% │ +33.3% │
│ tech_triage pass rate │    n/a │   0.0% │    n/a │
└───────────────────────┴────────┴────────┴────────┘

Regressed (1)
┏━━━━━━┳━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━┓
┃ case ┃ before ┃ after ┃ step        ┃
┡━━━━━━╇━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━┩
│ c    │ passed │ error │ tech_triage │
└──────┴────────┴───────┴─────────────┘

Improved (1)
┏━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━┓
┃ case ┃ before ┃ after  ┃ step ┃
┡━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━┩
│ b    │ failed │ passed │ desk │
└──────┴────────┴────────┴──────┘

New cases (1)
┏━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━┓
┃ case ┃ before ┃ after  ┃ step ┃
┡━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━┩
│ new  │ -      │ passed │      │
└──────┴────────┴────────┴──────┘

Removed cases (1)
┏━━━━━━┳━━━━━━━━┳━━━━━━━┳━━━━━━┓
┃ case ┃ before ┃ after ┃ step ┃
┡━━━━━━╇━━━━━━━━╇━━━━━━━╇━━━━━━┩
│ gone │ passed │ -     │      │
└──────┴────────┴───────┴──────┘\
""")


def test_compare_shows_a_cascades_rates_and_which_way_is_better():
    cascade = BEFORE.model_copy(
        update={
            'strong_tier': 'strong',
            'cost_vs_strong': 0.40,
            'quality_vs_strong': 0.98,
            'results': [r.model_copy(update={'escalated': i == 0}) for i, r in enumerate(BEFORE.results)],
        }
    )
    cheaper = cascade.model_copy(
        update={
            'cost_vs_strong': 0.30,
            'quality_vs_strong': 0.95,
            'results': [r.model_copy(update={'escalated': i < 2}) for i, r in enumerate(BEFORE.results)],
        }
    )

    metrics = {m.name: m for m in compare_reports(cascade, cheaper).metrics}

    assert {
        name: (m.before, m.after, m.improved) for name, m in metrics.items() if 'strong' in name or 'escal' in name
    } == {
        'escalation rate': (0.25, 0.5, False),
        'cost vs strong': (0.40, 0.30, True),
        'quality vs strong': (0.98, 0.95, False),
    }
    assert 'escalation rate' not in {m.name for m in compare_reports(BEFORE, AFTER).metrics}
