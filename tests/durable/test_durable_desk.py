"""The durable desk example: the crash-and-resume of docs/durable.md, and a refund held for approval."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from durable_harness import ROOT, is_waiting, wait_for

from podium.durable import approve, show_run

DESK = ROOT / 'examples' / 'durable_desk.py'
MESSAGE = 'my invoice 1234 looks wrong'


def desk(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DESK), *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=_env()
    )


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != 'PODIUM_DB'}


def test_the_three_commands_of_the_docs_crash_and_resume(tmp_path: Path) -> None:
    crashed = desk(tmp_path, '--crash-at', 'billing_resolve', '--run-id', 'demo', MESSAGE)
    assert crashed.returncode == -9, crashed.stderr

    listed = subprocess.run(
        [sys.executable, '-m', 'podium.cli', 'runs', '--db', 'sqlite:///desk.sqlite'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split()[:3] == ['demo', 'desk', 'running']

    resumed = desk(tmp_path, '--run-id', 'demo', MESSAGE)
    assert resumed.returncode == 0, resumed.stderr
    assert 'reply:  Here is how to read and settle your invoice.' in resumed.stdout
    assert 'model calls made by this process: billing_resolve\n' in resumed.stdout


def test_a_big_refund_waits_for_approval(tmp_path: Path) -> None:
    db = f'sqlite:///{tmp_path / "desk.sqlite"}'
    proc = subprocess.Popen(
        [sys.executable, str(DESK), '--run-id', 'refund', 'please refund the 250 dollars'],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        wait_for(lambda: is_waiting('refund', db), what='the refund to wait for approval', proc=proc)
        assert show_run('refund', db).step == 'refund_approval'
        approve('refund', db=db, reviewer='lead')
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert '  refund_approval: approved (no reason given)\n' in stdout
    assert 'reply:  Your refund is on its way.' in stdout
