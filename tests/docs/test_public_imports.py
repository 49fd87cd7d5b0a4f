"""Examples and docs import podium's public names only: a private module is free to move."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SOURCES = sorted([*ROOT.joinpath('examples').rglob('*.py'), *ROOT.joinpath('docs').rglob('*.md'), ROOT / 'README.md'])


def imported_modules(path: Path) -> list[str]:
    text = path.read_text()
    blocks = re.findall(r'```python[^\n]*\n(.*?)```', text, flags=re.S) if path.suffix == '.md' else [text]
    modules: list[str] = []
    for code in blocks:
        try:
            tree = ast.parse(code)
        except SyntaxError:  # an excerpt a page quotes from a file: its import lines are still imports
            modules.extend(re.findall(r'^\s*(?:from|import)\s+([\w.]+)', code, flags=re.M))
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.append(node.module)
                modules.extend(f'{node.module}.{alias.name}' for alias in node.names)
            elif isinstance(node, ast.Import):
                modules.extend(alias.name for alias in node.names)
    return modules


@pytest.mark.parametrize('path', SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_private_podium_module_is_imported(path: Path):
    podium_modules = [m for m in imported_modules(path) if m.startswith('podium.')]
    private = [m for m in podium_modules if any(part.startswith('_') for part in m.split('.'))]
    assert private == []
