"""The examples of docs/security.md run as written and print what the text says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = (Path(__file__).parents[2] / 'docs' / 'security.md').read_text()
CODE = re.findall(r'```python\n(.*?)```', DOC, flags=re.S)


def test_the_redacted_error_prints_as_shown(capsys: pytest.CaptureFixture[str]):
    exec(compile(CODE[0], 'docs/security.md', 'exec'), {'__name__': 'docs_example'})

    shown = [line.strip().removeprefix('#> ') for line in CODE[0].splitlines() if line.strip().startswith('#> ')]
    assert len(shown) == 2
    assert capsys.readouterr().out.splitlines() == shown


def test_installing_redaction_runs_as_written():
    exec(compile(CODE[1], 'docs/security.md', 'exec'), {'__name__': 'docs_example'})


def test_every_secret_name_the_text_lists_is_redacted():
    from podium._core._redact import redact

    listed = DOC.split('the value after a secret')[1].split('and the like')[0]
    names = re.findall(r'`([\w-]+)`', listed)
    assert len(names) == 18
    for name in names:
        assert redact(f'{name}=CANARY') == f'{name}=[REDACTED]', name
