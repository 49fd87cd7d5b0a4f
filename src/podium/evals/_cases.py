"""Case files: YAML rows that name a route, step expectations and trace checks, checked against the workflow.

pydantic-evals loads a dataset file all or nothing; a case file is read row by row instead, so that one bad row is
reported against its case and the others still run. Each row becomes a plain pydantic-evals `Case` whose
evaluators are podium's (and any pydantic-evals evaluator named by spec).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_evals import Case, Dataset
from pydantic_evals.evaluators import Evaluator, EvaluatorSpec
from pydantic_evals.evaluators.common import DEFAULT_EVALUATORS

from .._core._errors import CaseFileError
from .._core._records import RunResult
from .._core._step import AnyStep
from ._evaluators import ExpectBlocked, ExpectOutput, ExpectRoute, ExpectStep, OnOutput, OnStep, TraceChecks
from ._tree import find_guards, find_router, steps_by_name

__all__ = ('CaseFile', 'InvalidCase', 'WorkflowDataset', 'expect', 'load_cases')

WorkflowDataset = Dataset[Any, RunResult[Any], Any]
"""A pydantic-evals dataset whose task is a workflow run."""

PODIUM_EVALUATORS: tuple[type[Evaluator[Any, Any, Any]], ...] = (
    ExpectBlocked,
    ExpectOutput,
    ExpectRoute,
    ExpectStep,
    OnOutput,
    OnStep,
    TraceChecks,
)


@dataclass(frozen=True, kw_only=True)
class InvalidCase:
    """A case file row that could not become a case; it is reported as an error without running."""

    name: str
    message: str


@dataclass(frozen=True, kw_only=True)
class CaseFile:
    """The cases of a file, ready for `evaluate_workflow`, and the rows that could not become cases."""

    dataset: WorkflowDataset
    invalid: tuple[InvalidCase, ...] = ()
    order: tuple[str, ...] = ()
    """Every row's case name in file order, invalid rows included."""


class _Checks(BaseModel):
    model_config = ConfigDict(extra='forbid')

    no_fallback: bool = False
    not_degraded: bool = False
    max_requests: int | None = Field(default=None, ge=0)


class _Row(BaseModel):
    model_config = ConfigDict(extra='forbid')

    name: str | None = None
    inputs: Any
    route: str | None = None
    blocked_by: str | None = None
    steps: dict[str, Any] = {}
    output: Any = None
    checks: _Checks | None = None
    evaluators: list[EvaluatorSpec] = []
    tags: list[str] = []
    metadata: dict[str, Any] = {}


class _File(BaseModel):
    model_config = ConfigDict(extra='forbid')

    name: str | None = None
    router: str | None = None
    checks: _Checks | None = None
    evaluators: list[EvaluatorSpec] = []
    cases: list[object]


def expect(
    *,
    route: str | None = None,
    steps: Mapping[str, object] | None = None,
    output: object = None,
    no_fallback: bool = False,
    not_degraded: bool = False,
    max_requests: int | None = None,
    router: str | None = None,
    blocked_by: str | Literal[False] | None = None,
) -> list[Evaluator[Any, RunResult[Any], Any]]:
    """The evaluators of a case's expectations, for cases written in Python: `Case(..., evaluators=expect(...))`.

    Args:
        route: The route the router should take.
        steps: Per step name, the fields its output should have (a partial match) or an evaluator to run on it.
        output: The fields the final output should have, or an evaluator to run on it.
        no_fallback: Fail when any step fell back.
        not_degraded: Fail when the run is degraded.
        max_requests: Fail when the run made more model requests than this.
        router: The router whose route is checked; the first one that ran when omitted.
        blocked_by: The guard that should trip (block the run, send it to a safe response, or redact), or `False`
            when no guard should; `None` checks neither.
    """
    found: list[Evaluator[Any, RunResult[Any], Any]] = []
    if blocked_by is not None:
        found.append(ExpectBlocked(blocked_by or None))
    if route is not None:
        found.append(ExpectRoute(route, router))
    for step, expected in (steps or {}).items():
        check = _as_evaluator(expected)
        found.append(OnStep(step, check) if check is not None else ExpectStep(step, expected))
    check = _as_evaluator(output)
    if check is not None:
        found.append(OnOutput(check))
    elif output is not None:
        found.append(ExpectOutput(output))
    if no_fallback or not_degraded or max_requests is not None:
        found.append(TraceChecks(no_fallback=no_fallback, not_degraded=not_degraded, max_requests=max_requests))
    return found


def _as_evaluator(value: object) -> Evaluator[Any, Any, Any] | None:
    return cast('Evaluator[Any, Any, Any]', value) if isinstance(value, Evaluator) else None


def _as_specs(value: object) -> list[object] | None:
    """A row's list of evaluator specs; anything else is an expected value."""
    return cast('list[object]', value) if isinstance(value, list) else None


def load_cases(
    path: str | Path, workflow: AnyStep, *, evaluator_types: Sequence[type[Evaluator[Any, Any, Any]]] = ()
) -> CaseFile:
    """Read a case file for `workflow`; rows that name unknown routes, steps or fields become `invalid` entries.

    Args:
        path: The YAML file.
        workflow: The workflow the cases are for; routes, step names and output fields are checked against it.
        evaluator_types: Your own evaluator classes, to be named by spec in the file next to pydantic-evals' own.

    Raises:
        CaseFileError: when the file is missing, is not YAML, or is not a mapping with a `cases` list.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding='utf-8'))
    except OSError as exc:
        raise CaseFileError(f'cannot read case file {str(path)!r}: {exc.strerror}') from exc
    except yaml.YAMLError as exc:
        raise CaseFileError(f'{path} is not valid YAML: {exc}') from exc
    if not isinstance(raw, Mapping):
        raise CaseFileError(f'{path} is not a case file: it must be a mapping with a cases list, got {raw!r:.80}')
    try:
        file = _File.model_validate(raw)
    except ValidationError as exc:
        raise CaseFileError(f'{path} is not a case file: {_explain(exc)}') from exc
    reader = _RowReader(workflow, file, {**_registry(DEFAULT_EVALUATORS), **_registry(evaluator_types)})
    cases: list[Case[Any, RunResult[Any], Any]] = []
    invalid: list[InvalidCase] = []
    order: list[str] = []
    for index, row in enumerate(file.cases, 1):
        name = _row_name(row) or f'case {index}'
        if name in order:
            name = f'{name} (row {index})'
            invalid.append(InvalidCase(name=name, message=f'row {index} repeats the case name of an earlier row'))
        else:
            try:
                cases.append(reader.case(name, row))
            except ValueError as exc:
                invalid.append(InvalidCase(name=name, message=str(exc)))
        order.append(name)
    try:
        dataset_evaluators = [reader.evaluator(spec) for spec in file.evaluators]
    except ValueError as exc:
        raise CaseFileError(f'{path}: the evaluators for every case: {exc}') from exc
    dataset = WorkflowDataset(name=file.name or path.stem, cases=cases, evaluators=dataset_evaluators)
    return CaseFile(dataset=dataset, invalid=tuple(invalid), order=tuple(order))


def _row_name(row: object) -> str | None:
    given = cast('Mapping[str, object]', row).get('name') if isinstance(row, Mapping) else None
    return None if given is None else str(given)


def _registry(types: Sequence[type[Evaluator[Any, Any, Any]]]) -> dict[str, type[Evaluator[Any, Any, Any]]]:
    return {cls.get_serialization_name(): cls for cls in (*PODIUM_EVALUATORS, *types)}


def _explain(exc: ValidationError) -> str:
    return '; '.join(f'{".".join(map(str, e["loc"])) or "top level"}: {e["msg"]}' for e in exc.errors())


class _RowReader:
    """Turns rows into cases, checking every name a row uses against the workflow."""

    def __init__(self, workflow: AnyStep, file: _File, registry: Mapping[str, type[Evaluator[Any, Any, Any]]]) -> None:
        self.workflow = workflow
        self.steps = steps_by_name(workflow)
        self.router = find_router(workflow, file.router)
        if file.router is not None and self.router is None:
            raise CaseFileError(f'the case file names router {file.router!r}, which workflow {workflow.name!r} lacks')
        self.checks = file.checks or _Checks()
        self.registry = registry
        self.guards = find_guards(workflow)

    def case(self, name: str, data: object) -> Case[Any, RunResult[Any], Any]:
        if not isinstance(data, Mapping):
            raise CaseFileError(f'a row must be a mapping with inputs and expectations, got {data!r}')
        try:
            row = _Row.model_validate(data)
        except ValidationError as exc:
            raise CaseFileError(f'invalid row: {_explain(exc)}') from exc
        for step, expected in row.steps.items():
            self._check_step(step, expected)
        checks = self.checks.model_copy(update=row.checks.model_dump(exclude_unset=True) if row.checks else {})
        evaluators = expect(
            route=self._route(row.route) if row.route is not None else None,
            steps={step: expected for step, expected in row.steps.items() if _as_specs(expected) is None},
            output=row.output if _as_specs(row.output) is None else None,
            no_fallback=checks.no_fallback,
            not_degraded=checks.not_degraded,
            max_requests=checks.max_requests,
            router=self.router.name if self.router is not None else None,
            blocked_by=self._blocked_by(row.blocked_by),
        )
        for step, expected in row.steps.items():
            evaluators += [OnStep(step, self.evaluator(spec)) for spec in _as_specs(expected) or ()]
        evaluators += [OnOutput(self.evaluator(spec)) for spec in _as_specs(row.output) or ()]
        evaluators += [self.evaluator(spec) for spec in row.evaluators]
        metadata = {**row.metadata, 'tags': row.tags} if row.tags else row.metadata or None
        return Case(name=name, inputs=self._inputs(row.inputs), metadata=metadata, evaluators=evaluators)

    def evaluator(self, spec: object) -> Evaluator[Any, Any, Any]:
        """Instantiate an evaluator from its spec (`'Name'`, `{Name: arg}` or `{Name: {kwargs}}`)."""
        try:
            parsed = EvaluatorSpec.model_validate(spec)
        except ValidationError as exc:
            raise CaseFileError(f'{spec!r} is not an evaluator spec: {_explain(exc)}') from exc
        cls = self.registry.get(parsed.name)
        if cls is None:
            raise CaseFileError(f'unknown evaluator {parsed.name!r}; known: {", ".join(sorted(self.registry))}')
        try:
            return cls(*parsed.args, **parsed.kwargs)
        except (TypeError, ValueError) as exc:
            raise CaseFileError(f'cannot build evaluator {parsed.name!r}: {exc}') from exc

    def _route(self, route: str) -> str:
        if self.router is None:
            raise CaseFileError(f'the row expects route {route!r}, but workflow {self.workflow.name!r} has no router')
        routes = self.router.describe().routes or ()
        if route not in routes:
            raise CaseFileError(
                f'route {route!r} is not a route of router {self.router.name!r}; '
                f'its routes are {", ".join(sorted(routes))}'
            )
        return route

    def _blocked_by(self, guard: str | None) -> str | Literal[False] | None:
        """What a row expects of the workflow's guards: a row that names none expects none to trip."""
        if guard is None:
            return False if self.guards else None
        if guard not in self.guards:
            known = f'its guards are {", ".join(self.guards)}' if self.guards else 'it has no guards'
            raise CaseFileError(
                f'the row expects guard {guard!r} to trip, but workflow {self.workflow.name!r} has no '
                f'such guard; {known}'
            )
        return guard

    def _check_step(self, step: str, expected: object) -> None:
        found = self.steps.get(step)
        if found is None:
            raise CaseFileError(
                f'no step named {step!r} in workflow {self.workflow.name!r}; its steps are {", ".join(self.steps)}'
            )
        cls = found.output_class
        if isinstance(expected, Mapping) and cls is not None and issubclass(cls, BaseModel):
            unknown = [repr(key) for key in cast('Mapping[str, object]', expected) if key not in cls.model_fields]
            if unknown:
                raise CaseFileError(
                    f'step {step!r} outputs {cls.__name__}, which has no field {", ".join(unknown)}; '
                    f'its fields are {", ".join(cls.model_fields)}'
                )

    def _inputs(self, inputs: object) -> object:
        cls = self.workflow.input_class
        if cls is not None and issubclass(cls, BaseModel) and not isinstance(inputs, cls):
            try:
                return cls.model_validate(inputs)
            except ValidationError as exc:
                raise CaseFileError(f'inputs are not a valid {cls.__name__}: {_explain(exc)}') from exc
        return inputs
