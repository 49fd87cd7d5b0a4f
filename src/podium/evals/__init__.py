"""Evaluate the orchestration layer with pydantic-evals: routes, intermediate outputs, traces, and attribution.

`load_cases` reads a case file (or build a pydantic-evals `Dataset` with `expect(...)` evaluators), and
`evaluate_workflow` runs the workflow on every case and returns a `WorkflowReport`: pass rate, router accuracy and
confusion matrix, per-step pass rates, and for each failed case the first step that went wrong.
`pip install 'podium[evals]'` brings pydantic-evals; the rest of podium never imports it.
"""

try:
    import pydantic_evals  # noqa: F401  # pyright: ignore[reportUnusedImport]
except ImportError as _missing:
    raise ImportError("podium.evals needs pydantic-evals: pip install 'podium[evals]'") from _missing

from .._core._errors import CaseFileError
from ._cases import CaseFile, InvalidCase, WorkflowDataset, expect, load_cases
from ._compare import CaseChange, MetricChange, ReportDiff, compare_reports
from ._evaluators import ExpectBlocked, ExpectOutput, ExpectRoute, ExpectStep, OnOutput, OnStep, TraceChecks
from ._render import render_diff, render_report
from ._report import CaseResult, CaseStatus, Confusion, GuardMetrics, ModelUsage, StepRate, UsageReport, WorkflowReport
from ._routing_metrics import (
    cascade_trials,
    confusion_matrix,
    cost_quality_curve,
    cost_vs_strong,
    escalation_rate,
    quality_vs_strong,
    routing_accuracy,
    write_curve_png,
)
from ._run import evaluate_workflow

__all__ = (
    'CaseChange',
    'CaseFile',
    'CaseFileError',
    'CaseResult',
    'CaseStatus',
    'Confusion',
    'ExpectBlocked',
    'ExpectOutput',
    'ExpectRoute',
    'ExpectStep',
    'GuardMetrics',
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
