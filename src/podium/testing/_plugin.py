"""podium's pytest plugin: `podium_trace` captures a run's spans for snapshots; `fault_server` serves faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._fault_server import FaultServer
from ._spans import TraceCapture, capture_trace

__all__ = ('fault_server', 'podium_trace')


@pytest.fixture
def podium_trace() -> Iterator[TraceCapture]:
    """Turn podium tracing (and Pydantic-AI's agent spans) on for one test, into memory only."""
    with capture_trace() as capture:
        yield capture


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A running `FaultServer` on 127.0.0.1, stopped after the test; script it with `push()` or `default`."""
    with FaultServer() as server:
        yield server
