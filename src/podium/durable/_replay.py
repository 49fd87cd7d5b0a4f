"""Where a durable run is: step positions, the run's replay state, and the checkpoint format.

A step's id is derived from its position, not from the order DBOS happens to number things: the names on the path
from the workflow down to the step, plus an occurrence count for steps that run more than once (loop iterations).
DBOS numbers each checkpoint in call order and checks the recorded name at each number, so the id doubles as the
replay check: a resumed run whose steps moved, were renamed or were inserted before the crash point hits a name
that does not match and stops with `ReplayMismatch` naming the step.
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from dbos import DBOS, StepOptions
from dbos._error import DBOSUnexpectedStepError
from pydantic import BaseModel
from pydantic_ai.usage import RunUsage
from pydantic_core import to_json, to_jsonable_python

from .._core._errors import ReplayMismatch
from .._core._records import JSONValue, StepRecord, usage_summary
from .._core._redact import describe, redact

__all__ = ('Checkpoint', 'Position', 'RunState', 'active_run', 'checkpoint_step', 'current_position', 'enter')

T = TypeVar('T')

PREFIX = 'podium:'
"""Every DBOS step podium records starts with this, so listings can tell podium's checkpoints from DBOS's own."""

_run: ContextVar[RunState | None] = ContextVar('podium_durable_run', default=None)
_position: ContextVar[Position | None] = ContextVar('podium_durable_position', default=None)


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
class RunState:
    """What one durable run tracks while it runs or replays."""

    run_id: str
    occurrences: dict[str, int] = field(default_factory=dict[str, int])

    def position(self, parent: Position | None, name: str, *, chooses: bool) -> Position:
        """The position of the next invocation of step `name` under `parent`."""
        path = name if parent is None else f'{parent.path}/{name}'
        n = self.occurrences.get(path, 0)
        self.occurrences[path] = n + 1
        return Position(path, path if n == 0 else f'{path}#{n}', name, chooses)

    async def record(
        self,
        label: str,
        position: Position,
        fn: Callable[[], Coroutine[Any, Any, T]],
        options: StepOptions | None = None,
    ) -> T:
        """Run `fn` as a DBOS step named after `position`, or return what it recorded when replaying."""
        step_options: StepOptions = {**(options or {}), 'name': f'{PREFIX}{label}:{position.sid}'}
        try:
            return await DBOS.run_step_async(step_options, fn)
        except DBOSUnexpectedStepError as exc:
            recorded = str(exc.inputs[3])
            raise ReplayMismatch(
                f'the workflow changed since run {self.run_id} was recorded: step {position.sid!r} now runs where '
                f'the run recorded {_readable(recorded)!r}. Finish or cancel old runs before changing the order, '
                'names or paths of their steps.',
                step=position.name,
            ) from exc

    async def choice(self, parent: Position, child: Position) -> None:
        """Record which child a choosing step ran; on replay, check it is still the same one."""

        async def chosen() -> str:
            return child.sid

        recorded = await self.record('choice', parent, chosen)
        if recorded != child.sid:
            raise ReplayMismatch(
                f'the workflow changed since run {self.run_id} was recorded: step {parent.sid!r} chose '
                f'{recorded!r} then but chooses {child.sid!r} now, from the same checkpointed inputs.',
                step=parent.name,
            )


def active_run() -> RunState | None:
    """The durable run this code is part of, when it runs as workflow code (not inside a DBOS step)."""
    run = _run.get()
    if run is None or DBOS.workflow_id is None or DBOS.step_id is not None:
        return None
    return run


def current_position() -> Position | None:
    """The position of the innermost step running in this context."""
    return _position.get()


class enter:
    """Make `position` the current one (or, with `run`, start a run's state) for the duration of a `with`."""

    __slots__ = ('_run', '_run_token', '_token', 'position')

    def __init__(self, position: Position | None = None, *, run: RunState | None = None) -> None:
        self.position = position
        self._run = run

    def __enter__(self) -> None:
        self._token = _position.set(self.position)
        self._run_token = _run.set(self._run) if self._run is not None else None

    def __exit__(self, *exc: object) -> None:
        _position.reset(self._token)
        if self._run_token is not None:
            _run.reset(self._run_token)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A finished step as stored: its output, records and usage, plus a plain copy readable without user code."""

    output: object
    records: tuple[StepRecord, ...]
    usage: RunUsage
    error: Exception | None = None
    """What the step raised: recorded like an output, so a replay fails, retries or falls back the same way."""


def encode(checkpoint: Checkpoint, schemas: dict[type[Any], str | None]) -> dict[str, JSONValue | bytes]:
    """The stored form: pickled values (exact types back on replay) beside a plain summary for `podium runs`."""
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


def decode(
    stored: dict[str, Any], position: Position, run: RunState, schemas: dict[type[Any], str | None]
) -> Checkpoint:
    """The checkpoint back, or `ReplayMismatch` when its types no longer match the code."""
    try:
        output, records, usage = pickle.loads(stored['value'])
        error = None if stored.get('error') is None else _decode_error(stored['error'])
    except Exception as exc:  # a class that moved or vanished: the output type of the step changed
        raise _type_changed(position, run, f'its checkpoint no longer loads ({describe(exc)})') from exc
    if _schema_of(output, schemas) != stored['schema']:
        raise _type_changed(position, run, f'its output type {type(output).__qualname__} changed shape')
    return Checkpoint(output, tuple(records), usage, error)


async def checkpoint_step(
    run: RunState,
    position: Position,
    label: str,
    body: Callable[[], Awaitable[Checkpoint]],
    schemas: dict[type[Any], str | None],
    options: StepOptions,
) -> tuple[Checkpoint, bool]:
    """Run `body` as one DBOS step; return its checkpoint and whether it came from the store (a replay)."""
    live: list[Checkpoint] = []

    async def step() -> dict[str, JSONValue | bytes]:
        result = await body()
        live.append(result)
        return encode(result, schemas)

    stored = await run.record(label, position, step, options)
    if live:
        return live[0], False
    return decode(stored, position, run, schemas), True


def _type_changed(position: Position, run: RunState, what: str) -> ReplayMismatch:
    return ReplayMismatch(
        f'the workflow changed since run {run.run_id} was recorded: step {position.sid!r} finished before the '
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


def _readable(recorded: str) -> str:
    return recorded.removeprefix(PREFIX).partition(':')[2] or recorded


def plain(value: object) -> JSONValue:
    """A value as plain JSON-able data, for summaries."""
    data: JSONValue = to_jsonable_python(value, fallback=repr)
    return data
