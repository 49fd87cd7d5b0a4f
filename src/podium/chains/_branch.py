"""`branch`: send an intermediate output down one of several steps."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Literal, overload

from typing_extensions import TypeVar

from .._core._errors import ConfigurationError, NoRoute
from .._core._flow import StepScope
from .._core._step import AnyStep, Step, callable_name, common_class, ensure_named, require_step
from .._core._traits import StepInfo

__all__ = ('Branch', 'branch', 'keys_of')

InT = TypeVar('InT')
OutT = TypeVar('OutT')
KeyT = TypeVar('KeyT', bound=Hashable)


class Branch(Step[InT, OutT, Any]):
    """Runs the case step whose key `selector` picks for the input; the record's `route` is that key.

    A `then=`/`otherwise=` branch records the route as `then` or `otherwise`.
    """

    record_kind = 'branch'

    def __init__(
        self,
        selector: Callable[[InT], Hashable],
        cases: Mapping[Any, Step[InT, OutT, Any]],
        *,
        default: Step[InT, OutT, Any] | None = None,
        keys: object = None,
        labels: Mapping[Any, str] | None = None,
        name: str | None = None,
    ) -> None:
        if not cases:
            raise ConfigurationError('branch needs at least one case')
        if not callable(selector):
            raise ConfigurationError(
                f'branch needs a function of the input to branch on, got {type(selector).__qualname__}'
            )
        self.selector = selector
        self.labels = {k: _label(k) for k in cases} | dict(labels or {})
        self.cases = {k: require_step(step, f'the {self.labels[k]!r} case of a branch') for k, step in cases.items()}
        self.default = None if default is None else require_step(default, 'the default= of a branch')
        self.name = ensure_named(name, f'branch on {callable_name(selector)}')
        targets = [*self.cases.values(), *([default] if default is not None else [])]
        self.input_class = common_class(s.input_class for s in targets)
        self.output_class = common_class(s.output_class for s in targets)
        expected = keys_of(keys) if keys is not None else _declared_keys(selector)
        if expected is not None:
            _check_exhaustive(self.name, expected, self.cases, has_default=default is not None)

        edges: list[tuple[str, AnyStep]] = [(self.labels[k], s) for k, s in self.cases.items()]
        if self.default is not None:
            edges.append(('default', self.default))
        self._info = StepInfo(kind='choice', children=edges)

    def describe(self) -> StepInfo:
        return self._info

    async def _run(self, input: InT, scope: StepScope) -> OutT:
        key = self.selector(input)
        chosen = self.cases.get(key)
        if chosen is None:
            if self.default is None:
                raise NoRoute(
                    f'branch {self.name!r} got key {key!r}, which has no case: add a case for it or a default=',
                    step=self.name,
                )
            chosen = self.default
            scope.choose('default')
            scope.detail['key'] = _label(key)
        else:
            scope.choose(self.labels[key])
        return await chosen.invoke(input, scope.flow)


def _label(key: object) -> str:
    return str(key.value) if isinstance(key, enum.Enum) else str(key)


def keys_of(annotation: object) -> frozenset[object] | None:
    """Every value a `Literal`, enum or `bool` annotation allows; `None` for anything open-ended."""
    if annotation is bool:
        return frozenset({True, False})
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return frozenset(annotation)
    if typing.get_origin(annotation) is Literal:
        return frozenset(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        keys: set[object] = set()
        for part in typing.get_args(annotation):
            part_keys = keys_of(part)
            if part_keys is None:
                return None
            keys |= part_keys
        return frozenset(keys)
    return None


def _declared_keys(selector: Callable[..., object]) -> frozenset[object] | None:
    try:
        hints = typing.get_type_hints(selector)
    except Exception:  # lambdas and unresolvable hints: nothing declared to check against
        return None
    return keys_of(hints.get('return'))


def _check_exhaustive(
    name: str, expected: frozenset[object], cases: Mapping[Any, object], *, has_default: bool
) -> None:
    unknown = [k for k in cases if k not in expected]
    if unknown:
        raise ConfigurationError(
            f'branch {name!r} has cases the selector can never return: {sorted(map(_label, unknown))}; '
            f'it returns one of {sorted(map(_label, expected))}'
        )
    missing = [k for k in expected if k not in cases]
    if missing and not has_default:
        raise ConfigurationError(
            f'branch {name!r} has no case for {sorted(map(_label, missing))}: add them, or pass default='
        )


@overload
def branch(
    selector: Callable[[InT], bool],
    /,
    *,
    then: Step[InT, OutT, Any],
    otherwise: Step[InT, OutT, Any],
    name: str | None = None,
) -> Branch[InT, OutT]: ...
@overload
def branch(
    selector: Callable[[InT], KeyT],
    cases: Mapping[KeyT, Step[InT, OutT, Any]],
    /,
    *,
    default: Step[InT, OutT, Any] | None = None,
    keys: object = None,
    name: str | None = None,
) -> Branch[InT, OutT]: ...
def branch(
    selector: Callable[[Any], Any],
    cases: Mapping[Any, AnyStep] | None = None,
    /,
    *,
    then: AnyStep | None = None,
    otherwise: AnyStep | None = None,
    default: AnyStep | None = None,
    keys: object = None,
    name: str | None = None,
) -> Branch[Any, Any]:
    """Branch on an intermediate output.

    Either a predicate with `then=` and `otherwise=`, or a selector with a mapping of cases. When the selector's
    keys are closed (its return annotation, or `keys=`, is a `Literal`, an enum or `bool`), the mapping must cover
    every key unless a `default=` is given; that is checked here, when the workflow is built, not mid-run.
    """
    if cases is None:
        if then is None or otherwise is None:
            raise ConfigurationError('branch(predicate, ...) needs both then= and otherwise=')
        return Branch(
            selector, {True: then, False: otherwise}, keys=bool, labels={True: 'then', False: 'otherwise'}, name=name
        )
    if then is not None or otherwise is not None:
        raise ConfigurationError('branch takes either a cases mapping or then=/otherwise=, not both')
    return Branch(selector, cases, default=default, keys=keys, name=name)
