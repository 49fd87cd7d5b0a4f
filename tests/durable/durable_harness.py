"""Helpers for the durable tests: the app under test runs in subprocesses that the tests kill and restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

APP = Path(__file__).with_name('_app.py')
ROOT = Path(__file__).parents[2]


@dataclass
class App:
    """Runs `_app.py` against one run store, with one request log."""

    db: str
    log: Path
    env: dict[str, str] = field(default_factory=dict[str, str])
    procs: list[subprocess.Popen[str]] = field(default_factory=list[subprocess.Popen[str]])

    def environ(self, **extra: str) -> dict[str, str]:
        return {**os.environ, 'APP_DB': self.db, 'APP_LOG': str(self.log), **self.env, **extra}

    def spawn(self, *args: str, **env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(APP), *args],
            env=self.environ(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def run(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(APP), *args], env=self.environ(**env), capture_output=True, text=True, timeout=timeout
        )

    def podium(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, '-m', 'podium.cli', *args, '--db', self.db],
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def calls(self) -> Counter[tuple[str, str]]:
        """How many model requests each (run, step) made, from the request log."""
        if not self.log.exists():
            return Counter()
        lines = [line.split() for line in self.log.read_text().splitlines() if line.strip()]
        return Counter((parts[0], parts[1]) for parts in lines)

    def hang_marker(self) -> Path:
        return Path(f'{self.log}.hang')


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the process group: no cleanup, no flush, as in a crash."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def is_waiting(run_id: str, db: str) -> bool:
    """Whether the run waits at an approval; `False` while its store or the run does not exist yet."""
    from podium.durable import DurableError, show_run

    try:
        return show_run(run_id, db).waiting is not None
    except DurableError:
        return False


def wait_for(
    check: Callable[[], bool],
    *,
    timeout: float = 60,
    what: str = 'condition',
    proc: subprocess.Popen[str] | None = None,
) -> None:
    """Poll `check` until it holds; fail at once, with its stderr, if `proc` (which should make it hold) exits first."""
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.poll() is not None and not check():
            _, stderr = proc.communicate()
            raise AssertionError(f'the process exited with {proc.returncode} before {what}:\n{stderr}')
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout} s waiting for {what}')
        time.sleep(0.05)


def stop(app: App) -> None:
    for proc in app.procs:
        if proc.poll() is None:
            kill(proc)
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
