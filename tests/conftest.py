from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

EXTRA_DIRECTORIES = frozenset({'evals', 'durable'})
"""Test directories whose every test needs an optional extra (pydantic-evals, DBOS, Postgres)."""
EXTRA_MODULES = frozenset({'pydantic_evals', 'podium.evals', 'dbos', 'podium.durable', 'psycopg'})
"""A test module that imports any of these (or a submodule), anywhere in the file, needs an extra too."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        '--core',
        action='store_true',
        help='run only the core tests: those that need none of pydantic-evals, DBOS or Postgres',
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption('--core'):
        return None
    tests = Path(__file__).parent
    parts = collection_path.relative_to(tests).parts if collection_path.is_relative_to(tests) else ()
    if parts and parts[0] in EXTRA_DIRECTORIES:
        return True
    return (collection_path.suffix == '.py' and _imports_an_extra(collection_path)) or None


@cache
def _imports_an_extra(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding='utf-8'))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names = [node.module, *(f'{node.module}.{alias.name}' for alias in node.names)]
        else:
            continue
        if any(name == extra or name.startswith(f'{extra}.') for name in names for extra in EXTRA_MODULES):
            return True
    return False


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'
