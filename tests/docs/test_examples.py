"""Every Python block of docs/ and README.md runs, and the output a page shows is what it prints.

A page reads top to bottom, so its blocks run in order in one namespace: a later block may use what an earlier one
defined. A block that prints shows what it prints (`#> ` lines, or a string block after the print), checked line
for line; `pytest tests/docs/test_examples.py --update-examples`
rewrites them from a fresh run (read the diff). A block that cannot run (a fragment, or one that needs a service)
says so in its fence, `python {test="skip"}`, with the reason in the text around it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip('pytest_examples', reason="needs the docs extra: pip install -e '.[docs]'")
from pytest_examples import CodeExample, EvalExample, find_examples

ROOT = Path(__file__).parents[2]
PAGES: dict[str, list[CodeExample]] = defaultdict(list)
for _example in find_examples(ROOT / 'docs', ROOT / 'README.md'):
    if _example.path.suffix == '.md':
        PAGES[_example.path.relative_to(ROOT).as_posix()].append(_example)

RUN_ELSEWHERE = {
    # DBOS pickles step outputs by their module and writes a database file: a script in a temporary directory.
    'docs/durable.md': 'tests/durable/test_durable_docs.py runs it as a script',
    # Excerpts of examples/test_snapshot_guide.py, which runs as a test; another test checks the excerpts match.
    'docs/snapshot-testing.md': 'tests/evals/test_eval_docs.py checks its excerpts',
}


def test_the_docs_have_examples():
    assert sum(len(blocks) for blocks in PAGES.values()) > 40


@pytest.mark.parametrize('page', sorted(PAGES))
def test_page_examples_run_and_print_what_the_page_shows(
    page: str, eval_example: EvalExample, monkeypatch: pytest.MonkeyPatch
):
    if page in RUN_ELSEWHERE:
        pytest.skip(RUN_ELSEWHERE[page])
    monkeypatch.syspath_prepend(str(ROOT / 'examples'))  # pages may build on the runnable examples
    eval_example.set_config(line_length=120, quotes='single', target_version='py311')
    namespace: dict[str, Any] = {'__name__': '__docs__'}
    for example in sorted(PAGES[page], key=lambda ex: ex.start_line):
        if example.prefix_settings().get('test') == 'skip':
            continue
        try:
            if eval_example.update_examples:
                namespace |= eval_example.run_print_update(example, module_globals=namespace)
            elif '#> ' in example.source or 'print(' in example.source:
                namespace |= eval_example.run_print_check(example, module_globals=namespace)
            else:
                # The page shows no output for this block (or shows it in prose that another test checks): it runs.
                namespace |= eval_example.run(example, module_globals=namespace)
        except Exception as exc:
            # pytest cannot render tracebacks into the example's temporary file on every Python: name the line here.
            line = _innermost_example_line(exc)
            where = f'{page}:{example.start_line + line - 1 if line else example.start_line}'
            raise AssertionError(f'{where}: {type(exc).__name__}: {exc}') from None


def _innermost_example_line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get('__name__') == '__docs__':
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
