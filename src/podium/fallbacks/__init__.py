"""Structured fallback: one retry loop per model request, and step wrappers that say why they fired.

The wrappers retry, fall back, degrade, hedge, time out and break circuits. Each is a `Step[InT, OutT]` around
steps of the same types, so it composes with everything else.
"""

from .._core._attempts import collect_attempts
from .._core._classify import failure_reason, is_model_failure, is_outage, is_retryable
from .._core._failures import (
    AllModelsFailed,
    CircuitOpen,
    ContextTooLarge,
    FallbackError,
    ModelCircuitOpenError,
    OutputRejected,
    ProviderAuthError,
    Refused,
    StepTimeout,
    UnexpectedResponse,
)
from ._backoff import Backoff, Jitter
from ._breaker import BreakerState, CircuitBreaker, Permit, counts_against_provider
from ._budget import RetryBudget
from ._circuit import CircuitStep
from ._clock import Clock, SystemClock, VirtualClock
from ._default import DefaultStep, default
from ._fallback import FallbackOn, FallbackStep, fallback
from ._hedge import HedgeStep, hedge
from ._retry import RetryStep, retry
from ._retrying_model import RetryingModel
from ._sdk_retries import without_sdk_retries
from ._timeout import TimeoutStep, timeout

__all__ = (
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
    'Jitter',
    'ModelCircuitOpenError',
    'OutputRejected',
    'Permit',
    'ProviderAuthError',
    'Refused',
    'RetryBudget',
    'RetryStep',
    'RetryingModel',
    'StepTimeout',
    'SystemClock',
    'TimeoutStep',
    'UnexpectedResponse',
    'VirtualClock',
    'collect_attempts',
    'counts_against_provider',
    'default',
    'failure_reason',
    'fallback',
    'hedge',
    'is_model_failure',
    'is_outage',
    'is_retryable',
    'retry',
    'timeout',
    'without_sdk_retries',
)
