"""Structured fallback: one retry loop per model request, and step wrappers that say why they fired.

The wrappers retry, fall back, degrade, hedge, time out and break circuits; breakers, retry budgets and rate limits
can be shared by worker processes through a `LimitStore`. Each is a `Step[InT, OutT]` around
steps of the same types, so it composes with everything else.
"""

from .._core._attempts import collect_attempts
from .._core._classify import is_model_failure, is_outage, is_retryable
from .._core._errors import (
    AllModelsFailed,
    CircuitOpen,
    ContextTooLarge,
    FallbackError,
    ModelCircuitOpenError,
    OutputRejected,
    ProviderAuthError,
    RateLimitExhausted,
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
from ._limit_store import InProcessLimitStore, LimitStore, PostgresLimitStore, SQLiteLimitStore
from ._rate_limit import RateLimit
from ._retry import RetryStep, retry
from ._retrying_embedding_model import RetryingEmbeddingModel
from ._retrying_model import RetryingModel
from ._sdk_retries import without_sdk_retries
from ._timeout import TimeoutStep, timeout
from ._wall_clock import WallClock

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
    'RetryingEmbeddingModel',
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
)
