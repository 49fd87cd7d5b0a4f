"""Fault injectors shared by the fallbacks tests: a `FunctionModel` that fails as scripted, and error builders."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import anyio
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelServerError,
)
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

Outcome: TypeAlias = 'str | Callable[[], BaseException] | float'
"""What one request gets: a text answer, a fresh exception to raise, or seconds to hang before answering 'late'."""


def http(
    category: type[Any] | None, status: int, headers: Mapping[str, str] | None = None
) -> Callable[[], ModelHTTPError]:
    """A factory of fresh HTTP errors: a loop marks the error it gives up on, so each request raises a new one."""
    return lambda: ModelHTTPError.for_category(category, status_code=status, model_name='m', headers=headers)


rate_limited = http(ModelRateLimitError, 429)
server_error = http(ModelServerError, 500)
overloaded = http(ModelOverloadedError, 529)
quota = http(ModelQuotaExceededError, 429)
unauthorized = http(ModelAuthenticationError, 401)
too_long = http(ModelContextWindowExceededError, 400)
bad_request = http(None, 400)


def connection_reset() -> ModelAPIError:
    return ModelConnectionError('m', 'connection reset', phase='read')


class FaultyModel(FunctionModel):
    """Answers each request with the next scripted outcome, then with `default`; counts the requests."""

    def __init__(self, *outcomes: Outcome, default: Outcome = 'ok', name: str = 'faulty') -> None:
        self.outcomes = list(outcomes)
        self.default = default
        self.calls = 0
        super().__init__(self._respond, model_name=name)

    async def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else self.default
        if callable(outcome):
            raise outcome()
        if not isinstance(outcome, str):
            await anyio.sleep(outcome)
            outcome = 'late'
        return ModelResponse(parts=[TextPart(outcome)], model_name=self.model_name)
