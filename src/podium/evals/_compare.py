"""What changed between two reports of the same workflow: metrics that moved, cases that regressed or improved."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ._report import CaseStatus, WorkflowReport

__all__ = ('CaseChange', 'MetricChange', 'ReportDiff', 'compare_reports')


class CaseChange(BaseModel):
    """A case whose status changed (or that exists in one report only)."""

    model_config = ConfigDict(frozen=True)

    name: str
    before: CaseStatus | None
    after: CaseStatus | None
    step: str | None = None
    """The step the case now fails at (for regressions) or used to fail at (for improvements)."""


class MetricChange(BaseModel):
    """A rate in both reports; `None` where a report has no such rate."""

    model_config = ConfigDict(frozen=True)

    name: str
    before: float | None
    after: float | None
    higher_is_better: bool = True
    """False for rates a change should bring down: escalations, cost against the strong model."""

    @property
    def delta(self) -> float | None:
        """`after - before`, when both exist."""
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def improved(self) -> bool | None:
        """Whether the change is for the better; `None` when the rate did not move or either report lacks it."""
        delta = self.delta
        if not delta:
            return None
        return (delta > 0) == self.higher_is_better


class ReportDiff(BaseModel):
    """`new` against `old`: the rates side by side, and the cases that moved."""

    model_config = ConfigDict(frozen=True)

    metrics: list[MetricChange]
    regressed: list[CaseChange]
    """Passed before, not now."""
    improved: list[CaseChange]
    """Did not pass before, passes now."""
    added: list[CaseChange]
    removed: list[CaseChange]


def compare_reports(old: WorkflowReport, new: WorkflowReport) -> ReportDiff:
    """Compare `new` with `old` (a baseline, e.g. read back from `--json` output)."""
    metrics = [
        MetricChange(name='pass rate', before=old.pass_rate, after=new.pass_rate),
        MetricChange(name='router accuracy', before=old.router_accuracy, after=new.router_accuracy),
    ]
    for step in dict.fromkeys([*old.step_pass_rates, *new.step_pass_rates]):
        before, after = old.step_pass_rates.get(step), new.step_pass_rates.get(step)
        metrics.append(
            MetricChange(
                name=f'{step} pass rate',
                before=before.rate if before is not None else None,
                after=after.rate if after is not None else None,
            )
        )
    metrics += _cascade_metrics(old, new)
    old_results = {r.name: r for r in old.results}
    new_results = {r.name: r for r in new.results}
    regressed: list[CaseChange] = []
    improved: list[CaseChange] = []
    for name, now in new_results.items():
        was = old_results.get(name)
        if was is None:
            continue
        if was.status == 'passed' and now.status != 'passed':
            regressed.append(CaseChange(name=name, before=was.status, after=now.status, step=now.step))
        elif was.status != 'passed' and now.status == 'passed':
            improved.append(CaseChange(name=name, before=was.status, after=now.status, step=was.step))
    return ReportDiff(
        metrics=metrics,
        regressed=regressed,
        improved=improved,
        added=[
            CaseChange(name=n, before=None, after=r.status, step=r.step)
            for n, r in new_results.items()
            if n not in old_results
        ],
        removed=[
            CaseChange(name=n, before=r.status, after=None) for n, r in old_results.items() if n not in new_results
        ],
    )


def _cascade_metrics(old: WorkflowReport, new: WorkflowReport) -> list[MetricChange]:
    """A model cascade's rates, where either report has them: a cheaper mix at the same quality is the point."""
    rates = (
        ('escalation rate', old.escalation_rate, new.escalation_rate, False),
        ('cost vs strong', old.cost_vs_strong, new.cost_vs_strong, False),
        ('quality vs strong', old.quality_vs_strong, new.quality_vs_strong, True),
    )
    return [
        MetricChange(name=name, before=before, after=after, higher_is_better=higher_is_better)
        for name, before, after, higher_is_better in rates
        if before is not None or after is not None
    ]
