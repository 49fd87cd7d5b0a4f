"""The docs of evals and snapshot testing run, so they never go stale."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from podium.cli._load import load_step
from podium.evals import load_cases

ROOT = Path(__file__).parents[2]
EVALS = ROOT / 'docs' / 'evals.md'
SNAPSHOTS = ROOT / 'docs' / 'snapshot-testing.md'


def _blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf'```{language}\n(.*?)```', path.read_text(), flags=re.S)


@pytest.mark.parametrize('code', _blocks(EVALS, 'python'))
def test_the_python_examples_of_the_evals_guide_run(code: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(ROOT / 'examples'))
    exec(compile(code, str(EVALS), 'exec'), {'__name__': '__docs__'})


def test_the_case_file_of_the_evals_guide_is_valid_for_the_support_desk(tmp_path: Path):
    [example] = _blocks(EVALS, 'yaml')
    assert yaml.safe_load(example)['cases']
    path = tmp_path / 'cases.yaml'
    path.write_text(example)

    case_file = load_cases(path, load_step(f'{ROOT / "examples" / "support_desk.py"}:workflow'))

    assert case_file.invalid == ()
    assert [case.name for case in case_file.dataset.cases] == ['billing_charged_twice']


@pytest.mark.parametrize('code', _blocks(SNAPSHOTS, 'python'))
def test_the_snapshot_guide_quotes_its_example_file(code: str):
    example = (ROOT / 'examples' / 'test_snapshot_guide.py').read_text()
    before_create = code.split('snapshot()')[0]  # the guide shows an assertion before `create` fills its snapshot
    assert before_create in example
    ast.parse(code)  # a whole excerpt, never one cut off mid-statement
