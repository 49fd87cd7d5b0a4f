from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

SECRET = 'sk-proj-4f9a1c2e7b3d8e6f0a5b'

FLOWS = textwrap.dedent(
    f"""\
    import anyio
    from pydantic import BaseModel

    import podium


    class Ticket(BaseModel):
        text: str
        priority: int
        note: str = ''


    @podium.step
    async def triage(ticket: Ticket) -> str:
        return ticket.text * ticket.priority


    @podium.step
    async def echo(text: str) -> str:
        return text


    @podium.step
    async def quits(text: str) -> str:
        raise SystemExit(0)


    @podium.step
    async def leaks(text: str) -> str:
        raise ValueError('provider said: Incorrect API key provided: {SECRET}')


    active = 0
    peak = 0


    @podium.step
    async def counted(text: str) -> str:
        global active, peak
        active += 1
        peak = max(peak, active)
        await anyio.sleep(0.005)
        active -= 1
        return text


    not_a_step = 42
    """
)


@pytest.fixture
def secret() -> str:
    """An API key as a provider error would quote it."""
    return SECRET


@pytest.fixture
def flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module of small workflows, importable as `cli_flows` and as a file; returns its path."""
    path = tmp_path / 'cli_flows.py'
    path.write_text(FLOWS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, 'cli_flows', raising=False)
    return str(path)


@pytest.fixture
def cases(tmp_path: Path) -> str:
    """A case file of 40 cases for `echo` or `counted`."""
    path = tmp_path / 'cases.yaml'
    path.write_text(
        'cases:\n' + ''.join(f'  - {{name: c{i}, inputs: hello {i}, output: hello {i}}}\n' for i in range(40))
    )
    return str(path)
