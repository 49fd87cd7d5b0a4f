"""An OpenAI embedding model whose SDK client makes a single try, so podium's loop is the only one.

Pydantic-AI's `EmbeddingSettings` has no `max_retries` (chat models take it per request), and `OpenAIEmbeddingModel`
sends every request through its provider's client, which retries 408, 409, 429 and 5xx twice by default out of
sight. So this model sends through a copy of that client with `max_retries=0`, as Pydantic-AI does for a chat
request that sets `max_retries`: the copy shares the client's connection pool, credentials and base URL.
Imported only once an `OpenAIEmbeddingModel` exists, since the `openai` extra is optional.
"""

from __future__ import annotations

from openai import AsyncOpenAI
from pydantic_ai.embeddings import EmbeddingModel
from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel

__all__ = ('single_try_openai',)


class _SingleTryOpenAIEmbeddingModel(OpenAIEmbeddingModel):
    """`OpenAIEmbeddingModel` over the same provider, through a copy of its client with the SDK's retries off."""

    _source: AsyncOpenAI | None = None
    _single: AsyncOpenAI | None = None

    @classmethod
    def of(cls, model: OpenAIEmbeddingModel) -> _SingleTryOpenAIEmbeddingModel:
        return cls(model.model_name, provider=model._provider, settings=model.settings)

    @property
    def _client(self) -> AsyncOpenAI:
        # The provider may hand out a new client (one per event loop): copy whichever it hands out now, once.
        client = self._provider.client
        if client is not self._source or self._single is None:
            self._single = client.with_options(max_retries=0)
            self._source = client
        return self._single


def single_try_openai(model: EmbeddingModel) -> EmbeddingModel:
    """`model` sending with the SDK's retries off when it is Pydantic-AI's own `OpenAIEmbeddingModel`, else itself.

    A subclass is left as it is (it may build its requests otherwise); its SDK's tries are counted instead.
    """
    if type(model) is OpenAIEmbeddingModel:
        return _SingleTryOpenAIEmbeddingModel.of(model)
    return model
