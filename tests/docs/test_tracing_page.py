"""The tracing page's console example prints the span tree the page shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import podium

PAGE = (Path(__file__).parents[2] / 'docs' / 'blocks' / 'tracing.md').read_text()


def test_the_console_example_prints_what_the_page_shows(capsys: pytest.CaptureFixture[str]):
    in_memory, console = re.findall(r'```python\n(.*?)```', PAGE, flags=re.S)[:2]
    shown = PAGE.split(console, 1)[1].split('```text\n', 1)[1].split('```', 1)[0]
    namespace: dict[str, object] = {'__name__': '__docs__'}
    try:
        exec(compile(in_memory, 'tracing.md', 'exec'), namespace)
        capsys.readouterr()
        exec(compile(console, 'tracing.md', 'exec'), namespace)
    finally:
        podium.uninstrument()
    assert capsys.readouterr().out == shown
