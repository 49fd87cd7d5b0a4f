"""`podium eval`: run a workflow over a case file and show what went wrong where."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from pydantic import ValidationError
from rich.console import Console

from .._core._errors import LoadError, PriceUnknown
from .._core._redact import describe
from .._core._step import AnyStep, Step
from ..evals import (
    CaseFile,
    CaseFileError,
    WorkflowReport,
    compare_reports,
    load_cases,
    render_diff,
    render_report,
    write_curve_png,
)
from ..evals._cascade import CascadeEvaluation, evaluate_cascade
from ..evals._render import render_curve
from ..evals._run import DEFAULT_MAX_CONCURRENCY, RunOptions, run_cases
from ..evals._tree import find_cascade
from ._errors import BELOW_THRESHOLD
from ._load import load_object, load_step
from ._output import PendingFile
from ._parser import add_command, positive_int

if TYPE_CHECKING:
    from ._parser import Commands

__all__ = ('add_commands',)


def add_commands(commands: Commands) -> None:
    """Register `podium eval`."""
    parser = add_command(
        commands,
        'eval',
        help='evaluate a workflow on a case file: pass rate, router accuracy, failures by step',
        description='Run a workflow on every case of a YAML case file and report, for each failed case, the first '
        'step that went wrong. A workflow with a model cascade (ModelRouter) runs the cases again pinned to its '
        'strongest tier, to measure it against always-strong. Output files are checked for writability before any '
        'case runs, and replaced whole when the run is done.',
    )
    parser.add_argument('workflow', help='path/to/file.py:attr or package.module:attr')
    parser.add_argument('cases', help='the YAML case file (UTF-8)')
    parser.add_argument('--json', metavar='PATH', help='also write the report as JSON to PATH')
    parser.add_argument('--compare', metavar='OLD.json', help='show what regressed and improved against a report')
    parser.add_argument(
        '--model', help="run on this Pydantic-AI model (e.g. openai:gpt-4o-mini) via the module's build_workflow(model)"
    )
    parser.add_argument(
        '--max-concurrency',
        type=positive_int,
        default=DEFAULT_MAX_CONCURRENCY,
        metavar='N',
        help=f'run at most N cases at once (default {DEFAULT_MAX_CONCURRENCY}: enough to overlap model latency, few '
        "enough to stay under a provider's rate limits and to keep memory flat on large case files)",
    )
    parser.add_argument(
        '--fail-under',
        type=_rate,
        metavar='RATE',
        help=f'exit {BELOW_THRESHOLD} when the pass rate is below RATE (0.9 or 90%%)',
    )
    parser.add_argument(
        '--plot',
        metavar='PNG',
        help="run the cases on each tier of the workflow's model cascade and draw its cost-quality curve to PNG",
    )
    parser.set_defaults(handler=_eval)


def _rate(text: str) -> float:
    try:
        value = float(text[:-1]) / 100 if text.endswith('%') else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a rate such as 0.9 or 90%') from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f'{text!r} is not between 0 and 1 (0% and 100%)')
    return value


def _workflow(reference: str, model: str | None) -> AnyStep:
    """The referenced workflow, or with `model`, the one its module's `build_workflow(model)` returns."""
    if model is None:
        return load_step(reference)
    module = reference.rpartition(':')[0]
    try:
        factory = load_object(f'{module}:build_workflow')
    except LoadError:
        load_step(reference)  # a reference that does not load at all says so first
        raise LoadError(
            f'--model needs {module!r} to define build_workflow(model), which builds the workflow on that model; '
            'it defines none'
        ) from None
    if not callable(factory):
        raise LoadError(f'{module}:build_workflow is not callable')
    try:
        workflow = factory(model)
    except Exception as exc:  # a bad model name or a missing API key: say which, and stop
        raise LoadError(f'{module}:build_workflow({model!r}) failed: {describe(exc)}') from exc
    if not isinstance(workflow, Step):
        raise LoadError(f'{module}:build_workflow({model!r}) returned a {type(workflow).__name__}, not a podium Step')
    return workflow  # pyright: ignore[reportUnknownVariableType]


def _cases(path: str, workflow: AnyStep) -> CaseFile:
    try:
        return load_cases(path, workflow)
    except CaseFileError as exc:
        raise LoadError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise LoadError(
            f'cannot read case file {path!r}: byte {exc.start} is not UTF-8 ({exc.reason}); save the file as UTF-8'
        ) from exc


def _baseline(path: str) -> WorkflowReport:
    try:
        return WorkflowReport.model_validate_json(Path(path).read_bytes())
    except OSError as exc:
        raise LoadError(f'cannot read the baseline report {path!r}: {exc.strerror}') from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = '.'.join(map(str, first['loc'])) or 'top level'
        raise LoadError(f'{path!r} is not a report written by podium eval --json ({where}: {first["msg"]})') from exc


def _check_plot(workflow: AnyStep) -> None:
    """Say before anything runs why there can be no curve."""
    cascade = find_cascade(workflow)
    if cascade is None:
        raise LoadError(
            f'--plot draws the cost-quality curve of a model cascade, and workflow {workflow.name!r} has no ModelRouter'
        )
    if cascade.accept is None:
        raise LoadError(
            f'--plot draws the cascade over acceptance thresholds, and model router {cascade.name!r} has no accept '
            'check to hold its tiers to one'
        )
    if importlib.util.find_spec('matplotlib') is None:
        raise LoadError("--plot needs matplotlib: pip install 'podium[plot]'")


def _run(
    workflow: AnyStep, cases: CaseFile, options: RunOptions, *, plot: bool
) -> tuple[WorkflowReport, CascadeEvaluation | None]:
    """The report, measured against always-strong when the workflow has a model cascade."""
    cascade = find_cascade(workflow)
    if cascade is None:
        return anyio.run(run_cases, workflow, cases, options).report, None
    evaluated = anyio.run(partial(evaluate_cascade, workflow, cases, cascade, options, every_tier=plot))
    return evaluated.evaluation.report, evaluated


def _plot(evaluated: CascadeEvaluation, output: PendingFile, console: Console) -> None:
    threshold = evaluated.router.threshold
    try:
        points = evaluated.curve()
    except PriceUnknown as exc:
        raise LoadError(f'cannot draw the cost-quality curve: {exc}') from exc
    console.print()
    console.print(render_curve(points, chosen=threshold))
    write_curve_png(points, output.temp, chosen=threshold)
    output.commit()
    console.print(f'curve: {output.path}')


def _eval(args: argparse.Namespace) -> int:
    """Run the eval; output files are reserved first, so an unwritable path costs no model calls."""
    with contextlib.ExitStack() as outputs:
        report_file = outputs.enter_context(PendingFile(args.json, option='--json')) if args.json else None
        plot_file = outputs.enter_context(PendingFile(args.plot, option='--plot')) if args.plot else None
        console = Console()
        workflow = _workflow(args.workflow, args.model)
        if plot_file is not None:
            _check_plot(workflow)
        cases = _cases(args.cases, workflow)
        baseline = _baseline(args.compare) if args.compare else None
        options = RunOptions(max_concurrency=args.max_concurrency, progress=True, model=args.model)
        report, cascade = _run(workflow, cases, options, plot=plot_file is not None)
        console.print(render_report(report))
        if baseline is not None:
            console.print()
            console.print(render_diff(compare_reports(baseline, report)))
        if report_file is not None:
            report_file.temp.write_text(report.model_dump_json(indent=2) + '\n', encoding='utf-8')
            report_file.commit()
        if plot_file is not None and cascade is not None:
            _plot(cascade, plot_file, console)
        if args.fail_under is not None and report.pass_rate < args.fail_under:
            console.print(f'pass rate {report.pass_rate:.1%} is below --fail-under {args.fail_under:.1%}')
            return BELOW_THRESHOLD
        return 0
