"""`without_sdk_retries`: turn the provider SDK's own retries off, so podium's loop is the only one.

Pydantic-AI forwards `ModelSettings['max_retries']` to the OpenAI, Anthropic and other Stainless SDK clients per
request; this only decides when to send it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import KnownModelName, Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings, merge_model_settings
from pydantic_ai.tools import RunContext

__all__ = (
    'NO_SDK_RETRIES',
    'sdk_retries_sent',
    'sends_max_retries',
    'settings_without_sdk_retries',
    'without_sdk_retries',
)

NO_SDK_RETRIES = ModelSettings(max_retries=0)
"""What a request carries to turn the SDK's own retries off."""


def sends_max_retries(model: Model) -> bool:
    """Whether every model that may serve a request through `model` honours `ModelSettings['max_retries']`.

    Those that don't (Bedrock, Hugging Face, xAI) would warn about the setting on every request; the test models
    have no SDK to turn off, and their functions would see the setting.
    """
    while isinstance(model, WrapperModel):
        model = model.wrapped
    if isinstance(model, FallbackModel):
        return all(sends_max_retries(m) for m in model.models)
    if isinstance(model, FunctionModel | TestModel):
        return False
    return 'max_retries' not in type(model).unsupported_settings


def sdk_retries_sent(exc: BaseException) -> int:
    """How many requests the provider SDK sent before the one that raised `exc`, from its retry-count header.

    The OpenAI and Anthropic SDKs number each try in the `x-stainless-retry-count` request header. When a client
    still retries (a model that ignores `max_retries`), those tries reached the provider too, and a record that
    showed only one would hide them.
    """
    response = getattr(exc.__cause__, 'response', None)
    request = getattr(response, 'request', None)
    headers = getattr(request, 'headers', None)
    value = headers.get('x-stainless-retry-count') if headers is not None else None
    try:
        return max(0, int(value)) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def settings_without_sdk_retries(model: Model, settings: ModelSettings | None) -> ModelSettings | None:
    """`settings` with `max_retries=0` for a request to `model`, when every model behind it honours the setting."""
    return merge_model_settings(settings, NO_SDK_RETRIES) if sends_max_retries(model) else settings


class _NoSdkRetries(WrapperModel):
    """Sends every request with `max_retries=0`, so the provider SDK makes a single attempt."""

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        settings = settings_without_sdk_retries(self.wrapped, model_settings)
        return await self.wrapped.request(messages, settings, model_request_parameters)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        settings = settings_without_sdk_retries(self.wrapped, model_settings)
        async with self.wrapped.request_stream(messages, settings, model_request_parameters, run_context) as stream:
            yield stream


def without_sdk_retries(model: Model | KnownModelName) -> Model:
    """`model` with its provider SDK's own retries turned off, through `ModelSettings(max_retries=0)`.

    The OpenAI and Anthropic SDKs retry 408, 409, 429 and 5xx twice by default, out of Pydantic-AI's sight: a
    500, 500, 200 sequence looks like one clean request, and a `FallbackModel` waits through the SDK's backoff before
    moving on. `RetryingModel` already sends every request this way; use this for a model you put in a
    `FallbackModel` without one. Models whose SDK has no such setting (Bedrock's boto3 client, for one) are left
    as they are: configure their client's retries where you build it.
    """
    return _NoSdkRetries(model)
