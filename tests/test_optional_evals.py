"""podium without the `evals` extra: the core imports and runs, `podium.evals` and `podium eval` say what to install.

An import hook hides pydantic-evals, as on an install of plain `podium`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import subprocess
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import pytest

from podium.cli import main

ROOT = Path(__file__).parents[1]
DESK = str(ROOT / 'examples' / 'support_desk.py')
MESSAGE = "podium.evals needs pydantic-evals: pip install 'podium[evals]'"


class HidePydanticEvals(importlib.abc.MetaPathFinder):
    """Finds pydantic-evals nowhere."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition('.')[0] == 'pydantic_evals':
            raise ModuleNotFoundError(f'No module named {fullname!r}', name=fullname)
        return None


HOOK = """
import importlib.abc, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname.partition('.')[0] == 'pydantic_evals':
            raise ModuleNotFoundError(fullname, name=fullname)
sys.meta_path.insert(0, Hide())
"""


@pytest.fixture
def without_evals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, 'meta_path', [HidePydanticEvals(), *sys.meta_path])
    for name in list(sys.modules):
        if name.partition('.')[0] == 'pydantic_evals' or name.startswith(('podium.evals', 'podium.cli._eval')):
            monkeypatch.delitem(sys.modules, name)


def test_importing_podium_imports_no_pydantic_evals():
    code = 'import sys, podium, podium.cli, podium.testing; print(sorted(m for m in sys.modules if "evals" in m))'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == '[]'


def test_the_core_runs_without_pydantic_evals():
    code = (
        HOOK
        + 'import podium\n'
        + 'from pydantic_ai import Agent\n'
        + 'from pydantic_ai.models.test import TestModel\n'
        + 'step = podium.agent(Agent(TestModel(custom_output_text="fine"), name="answer"))\n'
        + 'result = step.run_sync("hi")\n'
        + 'print(result.output, result.record("answer").path)\n'
    )
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == 'fine lean'


@pytest.mark.usefixtures('without_evals')
def test_podium_evals_says_which_extra_to_install():
    with pytest.raises(ImportError, match=r"^podium\.evals needs pydantic-evals: pip install 'podium\[evals\]'$"):
        importlib.import_module('podium.evals')


@pytest.mark.usefixtures('without_evals')
@pytest.mark.parametrize(
    'argv',
    [
        ['eval', f'{DESK}:workflow', 'cases.yaml'],
        ['eval', '--json', 'report.json', f'{DESK}:workflow', 'cases.yaml', '--fail-under', '90%'],
    ],
)
def test_podium_eval_is_one_line_naming_the_extra(argv: list[str], capsys: pytest.CaptureFixture[str]):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ('', f'error: {MESSAGE}\n')


@pytest.mark.usefixtures('without_evals')
def test_the_other_commands_work_without_the_extra(capsys: pytest.CaptureFixture[str]):
    assert main(['graph', f'{DESK}:workflow']) == 0
    assert capsys.readouterr().out.startswith('flowchart')
