"""The first example of docs/durable.md runs as written (the three commands run in test_durable_desk)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from durable_harness import ROOT

DOC = ROOT / 'docs' / 'durable.md'


def test_the_one_line_switch_runs(tmp_path: Path) -> None:
    code = re.findall(r'```python\n(.*?)```', DOC.read_text(), flags=re.S)[0]
    (tmp_path / 'example.py').write_text(code)

    done = subprocess.run(
        [sys.executable, 'example.py'], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(' Refund on its way.')
    assert (tmp_path / 'runs.sqlite').exists()


def test_the_three_commands_are_those_the_example_test_runs() -> None:
    commands = re.search(r'## Crash and resume in three commands.*?```bash\n(.*?)```', DOC.read_text(), flags=re.S)
    assert commands is not None
    assert commands.group(1).strip().splitlines() == [
        'python examples/durable_desk.py --crash-at billing_resolve --run-id demo "my invoice 1234 looks wrong"',
        'podium runs --db sqlite:///desk.sqlite',
        'python examples/durable_desk.py --run-id demo "my invoice 1234 looks wrong"',
    ]
