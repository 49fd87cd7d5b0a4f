"""Every error podium raises derives from `PodiumError` and lives in `podium._core._errors`, drawn in its docstring.

One module holds the tree so that `except PodiumError` is a promise the whole package keeps, and the docstring is the
map a user reads to pick what to catch; these tests keep both true as errors are added.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from pathlib import Path

import pytest

import podium
from podium._core import _errors

pytestmark = pytest.mark.needs_extras  # reaches an optional extra (evals, durable, psycopg, bench peers) at run time

SRC = Path(podium.__file__).parent

NOT_PODIUM_ERRORS = {
    'podium.agents._template.TemplateError': 'control flow of the lean path, caught in agents/_lean.py; never leaves',
    'podium.agents._template._Recorded': 'stops the template capture at its first request, caught by the capture',
    'podium.agents._pydantic_ai_internals.LeanPathUnavailable': 'a warning, exported so users can filter it',
    'podium._core._pause.Paused': 'control flow of a run pausing at an approval, caught in Step.run; never leaves',
    'podium.serve._http.Problem': "a 4xx response (a Starlette HTTPException), rendered by the served app's handler",
}
"""Exception classes allowed outside the tree, each with the reason."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in `src/podium`, by `module.Name`, found by reading each module's source."""
    found: dict[str, type[BaseException]] = {}
    for path in sorted(SRC.rglob('*.py')):
        if path.name == '__main__.py':  # runs the command when imported, and defines nothing
            continue
        module_name = _module_name(path)
        module = importlib.import_module(module_name)
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if not isinstance(node, ast.ClassDef):
                continue
            cls: object = getattr(module, node.name, None)
            assert isinstance(cls, type), f'{module_name}.{node.name} cannot be checked: define classes at module level'
            if issubclass(cls, BaseException) and cls.__module__ == module_name:
                found[f'{module_name}.{node.name}'] = cls
    return found


def test_every_exception_is_a_podium_error_in_the_one_errors_module():
    classes = _exception_classes()
    strays = {
        name: cls.__mro__[1].__name__
        for name, cls in classes.items()
        if name not in NOT_PODIUM_ERRORS
        and (cls.__module__ != 'podium._core._errors' or not issubclass(cls, podium.PodiumError))
    }
    assert strays == {}
    assert set(NOT_PODIUM_ERRORS) <= set(classes), 'an allowed exception no longer exists: drop it from the list'
    assert len([c for c in classes.values() if c.__module__ == 'podium._core._errors']) > 30


def test_the_warning_is_a_warning_users_can_filter():
    assert issubclass(podium.LeanPathUnavailable, UserWarning)
    assert not issubclass(podium.LeanPathUnavailable, podium.PodiumError)


def _tree() -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """The docstring's tree as (class, parents, builtins in parentheses) rows; a root row has no parents."""
    doc = _errors.__doc__ or ''
    rows: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    parents: list[tuple[str, ...]] = []
    for line in doc.split('::', 1)[1].splitlines():
        connector = re.search(r'[├└]── (\w+)(?: \(([\w, ]+)\))?', line)
        if connector is None:
            if line.strip() and not line.startswith('    '):
                break  # the prose after the tree
            if line.strip():  # a root: `PodiumError`, or `ModelAPIError (Pydantic-AI), PodiumError`
                parents = [tuple(re.findall(r'\w+', re.sub(r'\([^)]*\)', '', line)))]
            continue
        depth = (connector.start() - 4) // 4 + 1
        name, extra = connector.group(1), tuple(re.findall(r'\w+', connector.group(2) or ''))
        rows.append((name, parents[depth - 1], extra))
        parents[depth:] = [(name,)]
    return rows


def test_the_docstring_draws_every_class_of_the_module_under_its_real_parents():
    rows = _tree()
    drawn = [name for name, _, _ in rows]
    defined = {
        name
        for name, cls in vars(_errors).items()
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls.__module__ == _errors.__name__
    }
    assert sorted(drawn) == sorted(defined - {'PodiumError'})
    for name, parents, extra in rows:
        cls = getattr(_errors, name)
        for parent in (*parents, *extra):
            base = getattr(_errors, parent, None) or getattr(builtins, parent)
            assert issubclass(cls, base), f'the docstring draws {name} under {parent}, which it does not subclass'


def test_the_tree_reader_sees_roots_and_nesting():
    rows = {name: (parents, extra) for name, parents, extra in _tree()}
    assert rows['ConfigurationError'] == (('PodiumError',), ('ValueError',))
    assert rows['PriceUnknown'] == (('ConfigurationError',), ())
    assert rows['StepTimeout'] == (('FallbackError',), ('TimeoutError',))
    assert rows['RateLimitExhausted'] == (('ModelUnavailableError', 'PodiumError'), ())


@pytest.mark.parametrize('name', sorted(_errors.__all__))
def test_each_error_says_when_it_is_raised(name: str):
    cls = getattr(_errors, name)
    doc = cls.__doc__ or ''
    assert name == 'PodiumError' or doc.startswith('Raised'), f'{name}: start its docstring with "Raised when ..."'
