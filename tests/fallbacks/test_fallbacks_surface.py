"""podium.fallbacks' typed errors, and the spans its wrappers leave (tests/test_public_api.py pins its names)."""

from __future__ import annotations

import pytest
from fallback_faults import quota
from inline_snapshot import snapshot

import podium
import podium.fallbacks
from podium.fallbacks import default, fallback
from podium.testing import TraceCapture

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


def test_typed_errors_are_workflow_errors():
    for error in (
        podium.fallbacks.AllModelsFailed,
        podium.fallbacks.CircuitOpen,
        podium.fallbacks.ContextTooLarge,
        podium.fallbacks.ProviderAuthError,
        podium.fallbacks.Refused,
        podium.fallbacks.StepTimeout,
    ):
        assert issubclass(error, podium.WorkflowError)
    assert issubclass(podium.fallbacks.StepTimeout, TimeoutError)


async def test_why_a_fallback_fired_is_on_its_span(podium_trace: TraceCapture):
    @podium.step
    async def primary(message: str) -> str:
        raise quota()

    @podium.step
    def backup(message: str) -> str:
        return message

    await default(fallback(primary, backup), 'sorry').run('hi')

    assert podium_trace.tree() == snapshot("""\
podium run default(fallback(primary, backup)) (status=degraded usage.requests=0)
  podium step fallback(primary, backup) (status=degraded fallback_reason=quota attempts=2)
    podium step primary (status=failed)
    podium step backup (status=ok)\
""")
