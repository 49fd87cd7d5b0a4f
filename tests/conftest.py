from __future__ import annotations

import ast
import os
import subprocess
from functools import cache
from pathlib import Path

import pytest

EXTRA_DIRECTORIES = frozenset({'evals', 'durable', 'serve'})
"""Test directories whose every test needs an optional extra (pydantic-evals, DBOS, Postgres, Starlette)."""
EXTRA_MODULES = frozenset(
    {'pydantic_evals', 'podium.evals', 'dbos', 'podium.durable', 'psycopg', 'starlette', 'uvicorn', 'podium.serve'}
)
"""A test module that imports any of these (or a submodule), anywhere in the file, needs an extra too."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        '--core',
        action='store_true',
        help='run only the core tests: those that need none of pydantic-evals, DBOS or Postgres',
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--core`, leave out the tests marked as needing an extra (those that reach it without importing it)."""
    if not config.getoption('--core'):
        return
    kept = [item for item in items if item.get_closest_marker('needs_extras') is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


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


ROOT = Path(__file__).parents[1]


@pytest.fixture(scope='session')
def postgres_server() -> str:
    """A running Postgres (scripts/postgres.sh starts a throwaway one); never skipped when $CI is set."""
    url = os.environ.get('PODIUM_POSTGRES_URL')
    if not url:
        try:
            done = subprocess.run(
                ['bash', str(ROOT / 'scripts' / 'postgres.sh')], capture_output=True, text=True, timeout=600
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            done = subprocess.CompletedProcess([], 1, '', str(exc))
        if done.returncode != 0 or not done.stdout.strip():
            message = f'cannot start Postgres with scripts/postgres.sh: {done.stderr.strip()[-2000:]}'
            if os.environ.get('CI'):
                pytest.fail(message)
            pytest.skip(message)
        url = done.stdout.strip().splitlines()[-1]
    return url
