"""A new public name is a decision: this pins the surface of `podium.fallbacks`, and shows its spans."""

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


def test_public_names():
    assert sorted(podium.fallbacks.__all__) == list(podium.fallbacks.__all__)
    assert set(podium.fallbacks.__all__) == {
        'AllModelsFailed',
        'Backoff',
        'BreakerState',
        'CircuitBreaker',
        'CircuitOpen',
        'CircuitStep',
        'Clock',
        'ContextTooLarge',
        'DefaultStep',
        'FallbackError',
        'FallbackOn',
        'FallbackStep',
        'HedgeStep',
        'InProcessLimitStore',
        'Jitter',
        'LimitStore',
        'ModelCircuitOpenError',
        'OutputRejected',
        'Permit',
        'PostgresLimitStore',
        'ProviderAuthError',
        'RateLimit',
        'RateLimitExhausted',
        'Refused',
        'RetryBudget',
        'RetryStep',
        'RetryingModel',
        'SQLiteLimitStore',
        'StepTimeout',
        'SystemClock',
        'TimeoutStep',
        'UnexpectedResponse',
        'VirtualClock',
        'WallClock',
        'collect_attempts',
        'counts_against_provider',
        'default',
        'fallback',
        'hedge',
        'is_model_failure',
        'is_outage',
        'is_retryable',
        'retry',
        'timeout',
        'without_sdk_retries',
    }
    for name in podium.fallbacks.__all__:
        assert getattr(podium.fallbacks, name) is not None


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
  podium step default(fallback(primary, backup)) (status=ok)
    podium step fallback(primary, backup) (status=degraded fallback_reason=quota attempts=2)
      podium step primary (status=failed)
      podium step backup (status=ok)\
""")
