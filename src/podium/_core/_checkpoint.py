"""Where a step invocation sits in a run, and a finished step as stored: what replays a paused or crashed run.

A step's id is derived from its position, not from the order things happen to be numbered: the names on the path
from the workflow down to the step, plus an occurrence count for steps that run more than once (loop iterations).
Durable runs (`podium.durable`) and paused runs (`podium.approval` in any run) both key what they stored by it, so
a resumed run finds each finished step's output again, and a step that moved or was renamed finds nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel
from pydantic_ai.usage import RunUsage
from pydantic_core import to_json, to_jsonable_python

from ._errors import ConfigurationError, ReplayMismatch
from ._records import JSONValue, StepRecord, usage_summary
from ._redact import describe, redact

if TYPE_CHECKING:
    from ._step import AnyStep
    from ._traits import StepInfo

__all__ = ('Checkpoint', 'Position', 'Positions', 'decode', 'encode', 'plain', 'plan_steps')

K = TypeVar('K')


@dataclass(frozen=True, slots=True)
class Position:
    """Where a step invocation sits in the run."""

    path: str
    """Step names from the workflow down, joined by `/`."""
    sid: str
    """The invocation's id: `path`, with `#n` for the n-th repeat of the same path in the run."""
    name: str
    """The step's own name."""
    chooses: bool
    """Whether the step picks which child runs (router, branch, loop, fallback): its choices are recorded."""


@dataclass(eq=False)
class Positions:
    """The positions handed out so far in one run: replaying the same course hands out the same ones."""

    run_id: str
    occurrences: dict[str, int] = field(default_factory=dict[str, int])

    def position(self, parent: Position | None, name: str, *, chooses: bool) -> Position:
        """The position of the next invocation of step `name` under `parent`."""
        path = name if parent is None else f'{parent.path}/{name}'
        n = self.occurrences.get(path, 0)
        self.occurrences[path] = n + 1
        return Position(path, path if n == 0 else f'{path}#{n}', name, chooses)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A finished step as stored: its output, records and usage, plus a plain copy readable without user code."""

    output: object
    records: tuple[StepRecord, ...]
    usage: RunUsage
    error: Exception | None = None
    """What the step raised: recorded like an output, so a replay fails, retries or falls back the same way."""


def encode(checkpoint: Checkpoint, schemas: dict[type[Any], str | None]) -> dict[str, JSONValue | bytes]:
    """The stored form: pickled values (exact types back on replay) beside a plain summary for `podium runs`.

    Pickled, not JSON: a step's output may be a tuple of models, a dataclass or an exception chain, and the steps
    after it must get back exactly what they would have got.
    """
    error = checkpoint.error
    return {
        'value': pickle.dumps((checkpoint.output, checkpoint.records, checkpoint.usage)),
        'schema': _schema_of(checkpoint.output, schemas),
        'records': [r.summary() for r in checkpoint.records],
        'usage': usage_summary(checkpoint.usage),
        'error': None if error is None else _encode_error(error),
        'failure': None if error is None else describe(error),
    }


def _encode_error(error: Exception) -> bytes:
    """The exception and its chain of causes, kept whole: fallbacks classify failures by the cause.

    Exceptions pickle by calling `__init__` with their `args` again, which fails for the many whose constructors
    take other arguments (HTTP errors of model providers among them); class, args and attributes are stored
    instead, and rebuilt without `__init__`. Their text is stored redacted: a provider's error body may echo the
    request, API key included, and the class and status code are what replay classifies by.
    """
    chain: list[tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 8:
        args = _redacted(current.args)
        state = {key: _redacted(value) for key, value in vars(current).items()}
        try:
            pickle.dumps((type(current), args, state))
        except Exception:  # an attribute that does not pickle: keep the class and the message
            state = {}
        chain.append((type(current), args, state))
        current = current.__cause__
    try:
        return pickle.dumps(chain)
    except Exception:  # the class itself does not pickle (a local class): keep the message
        return pickle.dumps([(RuntimeError, (describe(error),), {})])


def _redacted(value: Any) -> Any:
    """`value` with its strings redacted, through plain tuples, lists and dicts; other objects as they are."""
    if isinstance(value, str):
        return redact(value)
    if type(value) is tuple:
        return tuple(_redacted(item) for item in cast('tuple[Any, ...]', value))
    if type(value) is list:
        return [_redacted(item) for item in cast('list[Any]', value)]
    if type(value) is dict:
        return {key: _redacted(item) for key, item in cast('dict[Any, Any]', value).items()}
    return value


def _decode_error(stored: bytes) -> Exception:
    chain: list[tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]] = pickle.loads(stored)
    errors: list[BaseException] = []
    for cls, args, state in chain:
        error = cls.__new__(cls, *args)
        error.args = args
        error.__dict__.update(state)
        errors.append(error)
    for error, cause in itertools.pairwise(errors):
        error.__cause__ = cause
    first = errors[0]
    return first if isinstance(first, Exception) else RuntimeError(str(first))


def decode(stored: dict[str, Any], position: Position, run_id: str, schemas: dict[type[Any], str | None]) -> Checkpoint:
    """The checkpoint back, or `ReplayMismatch` when its types no longer match the code."""
    try:
        output, records, usage = pickle.loads(stored['value'])
        error = None if stored.get('error') is None else _decode_error(stored['error'])
    except Exception as exc:  # a class that moved or vanished: the output type of the step changed
        raise _type_changed(position, run_id, f'its checkpoint no longer loads ({describe(exc)})') from exc
    if _schema_of(output, schemas) != stored['schema']:
        raise _type_changed(position, run_id, f'its output type {type(output).__qualname__} changed shape')
    return Checkpoint(output, tuple(records), usage, error)


def _type_changed(position: Position, run_id: str, what: str) -> ReplayMismatch:
    return ReplayMismatch(
        f'the workflow changed since run {run_id} was recorded: step {position.sid!r} finished before the '
        f'restart, but {what}. Finish or cancel old runs before changing the output types of their steps.',
        step=position.name,
    )


def _schema_of(value: object, schemas: dict[type[Any], str | None]) -> str | None:
    """A fingerprint of the JSON schemas of the pydantic models in `value` (top level, or in a tuple or list)."""
    items: Sequence[object] = cast('Sequence[object]', value) if isinstance(value, tuple | list) else (value,)
    parts: list[str] = []
    for item in items:
        cls = type(item)
        if not issubclass(cls, BaseModel):
            continue
        if cls not in schemas:
            schema = to_json(cls.model_json_schema(), fallback=repr)
            schemas[cls] = hashlib.sha256(schema).hexdigest()[:16]
        fingerprint = schemas[cls]
        if fingerprint is not None:
            parts.append(f'{cls.__qualname__}:{fingerprint}')
    return ','.join(parts) or None


def plain(value: object) -> JSONValue:
    """A value as plain JSON-able data, for summaries."""
    data: JSONValue = to_jsonable_python(value, fallback=repr)
    return data


def plan_steps(
    workflow: AnyStep, plan_for: Callable[[AnyStep, StepInfo], K], is_unit: Callable[[K], bool]
) -> dict[int, K]:
    """Plan how a replaying run treats each step of `workflow` (by `id`), from what each says of itself.

    A step planned as a unit is stored and replayed whole, so nothing inside it can pause: an approval there is
    a `ConfigurationError` naming both, raised before any run.
    """
    plans: dict[int, K] = {}

    def visit(step: AnyStep, unit: str | None) -> None:
        info = step.describe()
        if info.pauses and unit is not None:
            raise ConfigurationError(
                f'approval step {step.name!r} sits inside {unit!r}, which a run records as one unit (a parallel, '
                'map_each, hedge, timeout, circuit breaker or checkpointed step) and cannot pause inside; move the '
                'approval before or after it'
            )
        if id(step) not in plans:
            plans[id(step)] = plan_for(step, info)
        inner = unit or (step.name if is_unit(plans[id(step)]) else None)
        for _, child in info.children:
            visit(child, inner)

    visit(workflow, None)
    return plans
