"""`WorkflowReport`: what an evaluation of a workflow found, as plain data that round-trips through JSON.

A pydantic model because `--compare` reads old reports back from files, which is user data to validate.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, computed_field

from .._core._errors import RecordNotFound

__all__ = (
    'CaseResult',
    'CaseStatus',
    'Confusion',
    'GuardMetrics',
    'ModelUsage',
    'StepRate',
    'UsageReport',
    'WorkflowReport',
)

CaseStatus: TypeAlias = Literal['passed', 'failed', 'error']
"""`error` when the case could not be judged: an invalid row, a workflow that raised, an evaluator that raised."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CaseResult(_Frozen):
    """One case: whether it passed and, when not, the first step that went wrong."""

    name: str
    status: CaseStatus
    step: str | None = None
    """The first step, in run order, whose output failed its expectation or evaluator (or that raised)."""
    expected_route: str | None = None
    route: str | None = None
    """The route the router took, when one ran."""
    failures: list[str] = []
    """Each failed check as `name: reason`, the attributed step's first."""
    error: str | None = None
    """Why the case is an `error`."""
    tags: list[str] = []
    escalated: bool | None = None
    """Whether the semantic router escalated to its LLM router, or the model cascade past its first tier; `None`
    when the workflow has neither, or it did not get to decide."""
    expected_blocked_by: str | None = None
    """The guard the case expects to trip; `None` when it expects none (or the workflow has no guards)."""
    blocked_by: list[str] = []
    """The guards that tripped (blocked, sent to a safe response, or redacted), in run order."""


class StepRate(_Frozen):
    """How many of the cases that checked a step passed those checks."""

    passed: int
    total: int

    @computed_field
    @property
    def rate(self) -> float:
        """`passed / total`."""
        return self.passed / self.total if self.total else 0.0


class GuardMetrics(_Frozen):
    """How well one guard tripped over the cases: a trip the case expected is a true positive."""

    true_positives: int = 0
    false_positives: int = 0
    """Cases the guard tripped on that expected it not to (blocked legitimate traffic)."""
    false_negatives: int = 0
    """Cases that expected the guard to trip where it did not (let an attack through)."""
    true_negatives: int = 0
    wrong: list[str] = []
    """The false positives and false negatives, by case name, in file order."""

    @computed_field
    @property
    def precision(self) -> float | None:
        """Share of the guard's trips that the cases expected; `None` when it never tripped."""
        tripped = self.true_positives + self.false_positives
        return self.true_positives / tripped if tripped else None

    @computed_field
    @property
    def recall(self) -> float | None:
        """Share of the cases expecting the guard to trip where it did; `None` when no case expects it."""
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else None


class Confusion(_Frozen):
    """The router's confusion matrix: `matrix[expected][predicted]` counts cases, in the order of `labels`."""

    labels: list[str] = []
    matrix: list[list[int]] = []


class ModelUsage(_Frozen):
    """Usage of one model over every case, and its cost when genai-prices knows the model."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    """`None` when the model's price is unknown."""


class UsageReport(ModelUsage):
    """Usage over every case; `cost_usd` is `None` unless every model that was called has a known price."""

    models: dict[str, ModelUsage] = {}


class WorkflowReport(_Frozen):
    """The result of `evaluate_workflow`: per-case outcomes and what they add up to."""

    workflow: str
    dataset: str
    results: list[CaseResult]
    confusion: Confusion = Confusion()
    step_pass_rates: dict[str, StepRate] = {}
    """Per step, the cases whose checks on it passed, over the cases that checked it after every earlier step passed.

    A step that ran on wrong input is not counted against: attribution already blamed the earlier step.
    """
    usage: UsageReport = UsageReport()
    guards: dict[str, GuardMetrics] = {}
    """Per guard of the workflow, its precision and recall over the cases, and the cases it got wrong."""
    model: str | None = None
    """The model the workflow ran on, when it was chosen for the evaluation."""
    strong_tier: str | None = None
    """The model cascade's tier the cases ran again on, pinned, as the always-strong baseline; `None` without one."""
    cost_vs_strong: float | None = None
    """Cost over the always-strong baseline's; `None` without one, or when a model has no known price."""
    quality_vs_strong: float | None = None
    """Passed cases over the always-strong baseline's; `None` without one, or when it passed no case."""

    @computed_field
    @property
    def cases(self) -> int:
        """Number of cases, invalid ones included."""
        return len(self.results)

    @computed_field
    @property
    def passed(self) -> int:
        """Number of cases that passed every check."""
        return sum(r.status == 'passed' for r in self.results)

    @computed_field
    @property
    def failed(self) -> int:
        """Number of cases with a failed check."""
        return sum(r.status == 'failed' for r in self.results)

    @computed_field
    @property
    def errors(self) -> int:
        """Number of cases that could not be judged."""
        return sum(r.status == 'error' for r in self.results)

    @computed_field
    @property
    def pass_rate(self) -> float:
        """`passed / cases`."""
        return self.passed / self.cases if self.cases else 0.0

    @computed_field
    @property
    def router_accuracy(self) -> float | None:
        """Share of the routed cases with an expected route that took it; `None` when no case expects one."""
        total = sum(map(sum, self.confusion.matrix))
        return sum(row[i] for i, row in enumerate(self.confusion.matrix)) / total if total else None

    @computed_field
    @property
    def escalation_rate(self) -> float | None:
        """Share of the cases whose router decided that escalated; `None` when no router recorded it."""
        flags = [r.escalated for r in self.results if r.escalated is not None]
        return sum(flags) / len(flags) if flags else None

    @computed_field
    @property
    def failures_by_step(self) -> dict[str, int]:
        """Failed and errored cases per attributed step, most first."""
        return dict(Counter(r.step for r in self.results if r.status != 'passed' and r.step).most_common())

    @computed_field
    @property
    def failures_by_route(self) -> dict[str, int]:
        """Failed and errored cases per expected route (the route taken when none was expected), most first."""
        routes = (r.expected_route or r.route for r in self.results if r.status != 'passed')
        return dict(Counter(route for route in routes if route).most_common())

    @computed_field
    @property
    def pass_rate_by_tag(self) -> dict[str, float]:
        """Pass rate of the cases carrying each tag."""
        totals: Counter[str] = Counter()
        passed: Counter[str] = Counter()
        for result in self.results:
            totals.update(result.tags)
            if result.status == 'passed':
                passed.update(result.tags)
        return {tag: passed[tag] / total for tag, total in sorted(totals.items())}

    def result(self, name: str) -> CaseResult:
        """The result of the case called `name`; raises `RecordNotFound` (a `KeyError`) when there is none."""
        for result in self.results:
            if result.name == name:
                return result
        raise RecordNotFound(f'no case named {name!r} in the report of {self.workflow!r}')
