"""Rich tables of a `WorkflowReport` and of a `ReportDiff`, for the terminal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..routers._calibrate import CurvePoint
from ._compare import CaseChange, ReportDiff
from ._report import UsageReport, WorkflowReport

__all__ = ('render_curve', 'render_diff', 'render_report')


def _rate(value: float | None) -> str:
    return 'n/a' if value is None else f'{value:.1%}'


def _cost(value: float | None) -> str:
    return 'unknown' if value is None else f'${value:.4f}'


def _summary(report: WorkflowReport) -> Table:
    table = Table(title=f'podium eval: {report.workflow} on {report.dataset}', show_header=False, title_justify='left')
    table.add_column(style='bold')
    table.add_column()
    if report.model is not None:
        table.add_row('model', report.model)
    table.add_row('cases', str(report.cases))
    table.add_row('pass rate', f'{_rate(report.pass_rate)} ({report.passed} passed)')
    table.add_row('failed', str(report.failed))
    table.add_row('errors', str(report.errors))
    table.add_row('router accuracy', _rate(report.router_accuracy))
    for name, value in _routing_rows(report):
        table.add_row(name, value)
    if report.failures_by_route:
        table.add_row('failures by route', ', '.join(f'{r} {n}' for r, n in report.failures_by_route.items()))
    usage = report.usage
    table.add_row('usage', f'{usage.requests} requests, {usage.input_tokens} in / {usage.output_tokens} out tokens')
    table.add_row('cost', _cost(usage.cost_usd))
    for tag, rate in report.pass_rate_by_tag.items():
        table.add_row(f'tag {tag}', _rate(rate))
    return table


def _routing_rows(report: WorkflowReport) -> Iterator[tuple[str, str]]:
    """Escalations, and the cascade against always-strong; unknown values say why rather than show 0."""
    flags = [r.escalated for r in report.results if r.escalated is not None]
    if flags:
        yield 'escalated', f'{sum(flags)} of {len(flags)} cases ({_rate(report.escalation_rate)})'
    if report.strong_tier is not None:
        strong = f'always {report.strong_tier}'
        quality = report.quality_vs_strong
        yield f'quality vs {strong}', _rate(quality) if quality is not None else f'n/a: {strong} passed no case'
        cost = report.cost_vs_strong
        yield f'cost vs {strong}', _rate(cost) if cost is not None else 'unknown: a model has no price (see usage)'


def _confusion(report: WorkflowReport) -> Table:
    labels = report.confusion.labels
    table = Table(title='Router confusion', title_justify='left')
    table.add_column('expected \\ taken', style='bold')
    for label in labels:
        table.add_column(label, justify='right')
    for i, (label, row) in enumerate(zip(labels, report.confusion.matrix, strict=True)):
        cells = [Text(str(n), style='green' if i == j else 'red' if n else 'dim') for j, n in enumerate(row)]
        table.add_row(label, *cells)
    return table


def _steps(report: WorkflowReport) -> Table:
    table = Table(title='Steps', title_justify='left')
    table.add_column('step', style='bold')
    table.add_column('pass rate', justify='right')
    table.add_column('passed', justify='right')
    table.add_column('failures attributed', justify='right')
    failures = report.failures_by_step
    for step in dict.fromkeys([*report.step_pass_rates, *failures]):
        rate = report.step_pass_rates.get(step)
        table.add_row(
            step,
            _rate(rate.rate) if rate else 'n/a',
            f'{rate.passed}/{rate.total}' if rate else '',
            str(failures.get(step, 0)),
        )
    return table


def _guards(report: WorkflowReport) -> Table:
    table = Table(
        title='Guards: trips against the cases that expect them (TP right, FP wrongly, FN missed)', title_justify='left'
    )
    table.add_column('guard', style='bold', no_wrap=True)
    for column in ('precision', 'recall', 'TP', 'FP', 'FN'):
        table.add_column(column, justify='right')
    table.add_column('wrong cases')
    for name, guard in report.guards.items():
        table.add_row(
            name,
            _rate(guard.precision),
            _rate(guard.recall),
            str(guard.true_positives),
            str(guard.false_positives),
            str(guard.false_negatives),
            Text(', '.join(guard.wrong), style='red') if guard.wrong else Text('none', style='dim'),
        )
    return table


def _failures(report: WorkflowReport) -> Table:
    table = Table(title='Failures and errors, by the first step that went wrong', title_justify='left')
    table.add_column('case', style='bold', no_wrap=True)
    table.add_column('step', no_wrap=True)
    table.add_column('what went wrong')
    for result in report.results:
        if result.status == 'error':
            table.add_row(result.name, result.step or '', Text(result.error or '', style='red'))
        elif result.status == 'failed':
            first = result.failures[0].removeprefix(f'{result.step}.') if result.failures else ''
            table.add_row(result.name, result.step or '', first)
    return table


def _usage(usage: UsageReport) -> Table:
    table = Table(title='Usage by model', title_justify='left')
    for column in ('model', 'requests', 'input tokens', 'output tokens', 'cost'):
        table.add_column(column, justify='left' if column == 'model' else 'right')
    for name, model in usage.models.items():
        table.add_row(
            name, str(model.requests), str(model.input_tokens), str(model.output_tokens), _cost(model.cost_usd)
        )
    return table


def render_report(report: WorkflowReport) -> RenderableType:
    """The report as rich tables: summary, router confusion, steps, guards, failures, usage."""
    parts: list[RenderableType] = [_summary(report)]
    if report.confusion.labels:
        parts.append(_confusion(report))
    if report.step_pass_rates or report.failures_by_step:
        parts.append(_steps(report))
    if report.guards:
        parts.append(_guards(report))
    if report.passed < report.cases:
        parts.append(_failures(report))
    if report.usage.models:
        parts.append(_usage(report.usage))
    return Group(*_spaced(parts))


def render_curve(points: Sequence[CurvePoint], *, chosen: float | None = None) -> Table:
    """A model cascade's cost-quality curve, one row per threshold, the `chosen` one in bold."""
    table = Table(title='Cost-quality curve, against always-strong', title_justify='left')
    for column in ('threshold', 'quality', 'cost', 'escalated'):
        table.add_column(column, justify='right')
    for point in points:
        mark = point.threshold == chosen
        table.add_row(
            f'{point.threshold:.4g}' + (' (chosen)' if mark else ''),
            _rate(point.quality_vs_strong),
            _rate(point.cost_vs_strong),
            _rate(point.escalation_rate),
            style='bold' if mark else None,
        )
    return table


def _spaced(parts: list[RenderableType]) -> Iterator[RenderableType]:
    for i, part in enumerate(parts):
        if i:
            yield Text()
        yield part


def _change_rows(title: str, changes: list[CaseChange], style: str) -> Table:
    table = Table(title=title, title_justify='left', title_style=style)
    table.add_column('case', style='bold')
    table.add_column('before')
    table.add_column('after')
    table.add_column('step')
    for change in changes:
        table.add_row(change.name, change.before or '-', change.after or '-', change.step or '')
    return table


def render_diff(diff: ReportDiff) -> RenderableType:
    """What regressed and what improved, against a baseline report."""
    metrics = Table(title='Compared with the baseline', title_justify='left')
    for column in ('metric', 'before', 'after', 'change'):
        metrics.add_column(column, justify='left' if column == 'metric' else 'right')
    for metric in diff.metrics:
        delta = metric.delta
        change = Text('n/a' if delta is None else f'{delta:+.1%}')
        if metric.improved is not None:
            change.stylize('green' if metric.improved else 'red')
        metrics.add_row(metric.name, _rate(metric.before), _rate(metric.after), change)
    parts: list[RenderableType] = [metrics]
    for title, changes, style in (
        ('Regressed', diff.regressed, 'red'),
        ('Improved', diff.improved, 'green'),
        ('New cases', diff.added, ''),
        ('Removed cases', diff.removed, ''),
    ):
        if changes:
            parts.append(_change_rows(f'{title} ({len(changes)})', changes, style))
    if not diff.regressed and not diff.improved:
        parts.append(Text('No case changed between passing and failing.'))
    return Group(*_spaced(parts))
