"""What users read and copy (the examples, the benchmarks, the docs and the README) uses podium's public API only:
no private module, and no name a module leaves out of its `__all__`, so internals are free to move."""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
_FENCE = re.compile(r'^```py(?:thon)?[^\n]*\n(.*?)^```', re.MULTILINE | re.DOTALL)
INTERNALS_MEASURED = {'bench/redact.py': "measures podium's secret redactor itself, with its memo cleared"}
"""Benchmarks of an internal piece, which must reach it."""


def _sources() -> Iterator[tuple[str, str]]:
    """(where, code) of every example and benchmark module and every Python block of the docs and the README."""
    for folder in ('examples', 'bench'):
        for path in sorted((ROOT / folder).rglob('*.py')):
            yield path.relative_to(ROOT).as_posix(), path.read_text()
    for page in [*sorted((ROOT / 'docs').rglob('*.md')), ROOT / 'README.md']:
        for number, match in enumerate(_FENCE.finditer(page.read_text()), 1):
            yield f'{page.relative_to(ROOT).as_posix()} block {number}', match.group(1)


SOURCES = {where: code for where, code in _sources() if where not in INTERNALS_MEASURED}


def private_imports(code: str) -> list[str]:
    """Each podium import in `code` that reaches past the public API: a private module, or a name not in `__all__`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split('.')[0] == 'podium' and '._' in f'.{a.name}']
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or '').split('.')[0] == 'podium':
            module = node.module or ''
            if '._' in f'.{module}':
                found.append(module)
                continue
            public = _declared_all(module)
            found += [
                f'{module}.{a.name}' for a in node.names if a.name not in public and not _is_subpackage(module, a.name)
            ]
    return found


def _declared_all(module: str) -> set[str]:
    """The `__all__` a podium module declares, read from its source: importing it would need its extra installed."""
    spec = importlib.util.find_spec(module)
    assert spec is not None, f'no module {module}'
    assert spec.origin is not None, f'no source for {module}'
    for node in ast.parse(Path(spec.origin).read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '__all__' for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def _is_subpackage(module: str, name: str) -> bool:
    """`from podium import testing` names a public subpackage, not a symbol."""
    return not name.startswith('_') and importlib.util.find_spec(f'{module}.{name}') is not None


@pytest.mark.parametrize('where', SOURCES)
def test_only_public_names_are_imported(where: str):
    assert private_imports(SOURCES[where]) == []


def test_the_check_sees_private_modules_and_unexported_names():
    code = (
        'from podium._core._step import Chain\nimport podium.agents._lean\nfrom podium.agents import call_agent, agent'
    )
    assert private_imports(code) == ['podium._core._step', 'podium.agents._lean', 'podium.agents.call_agent']
    assert private_imports('from podium import testing, Step\nimport podium.testing') == []


def test_every_place_users_read_is_checked():
    assert {where.split('/')[0].split(' ')[0] for where in SOURCES} == {'examples', 'bench', 'docs', 'README.md'}
    assert sum(where.startswith('docs/') for where in SOURCES) > 50
