"""A new public name is a decision, not an accident: this pins the surface of `podium.evals`."""

from __future__ import annotations

from inline_snapshot import snapshot

import podium.evals


def test_public_names():
    assert list(podium.evals.__all__) == sorted(podium.evals.__all__)
    assert podium.evals.__all__ == snapshot(
        (
            'CaseChange',
            'CaseFile',
            'CaseFileError',
            'CaseResult',
            'CaseStatus',
            'Confusion',
            'ExpectOutput',
            'ExpectRoute',
            'ExpectStep',
            'InvalidCase',
            'MetricChange',
            'ModelUsage',
            'OnOutput',
            'OnStep',
            'ReportDiff',
            'StepRate',
            'TraceChecks',
            'UsageReport',
            'WorkflowDataset',
            'WorkflowReport',
            'cascade_trials',
            'compare_reports',
            'confusion_matrix',
            'cost_quality_curve',
            'cost_vs_strong',
            'escalation_rate',
            'evaluate_workflow',
            'expect',
            'load_cases',
            'quality_vs_strong',
            'render_diff',
            'render_report',
            'routing_accuracy',
            'write_curve_png',
        )
    )


def test_every_public_name_exists():
    for name in podium.evals.__all__:
        assert getattr(podium.evals, name) is not None
