"""The support desk of examples/, as an object and served by `podium serve`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from serve_flows import EXAMPLES, serve_command


@pytest.fixture(scope='session')
def desk() -> Any:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from support_desk import workflow
    finally:
        sys.path.remove(str(EXAMPLES))
    return workflow


@pytest.fixture
def served() -> Iterator[str]:
    """`podium serve` on the support desk, on a free port, in its own process; yields its base URL."""
    with serve_command() as url:
        yield url
