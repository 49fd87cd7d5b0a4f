"""The support desk of examples/, served in most tests."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from serve_flows import EXAMPLES


@pytest.fixture(scope='session')
def desk() -> Any:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from support_desk import workflow
    finally:
        sys.path.remove(str(EXAMPLES))
    return workflow
