"""The embedding model a semantic router calls: its embedder's own, inside podium's retry loop.

Embedding calls are model calls: a router must protect the provider as an agent step does (the SDK's retries off,
one retry loop with a budget, a deadline, `Retry-After` past the cap ending the loop so the router escalates), and its
record must show every attempt. So the router calls its embedder with the model swapped, through
`Embedder.override`, for a `RetryingEmbeddingModel` around it, built once on first use: the embedder's settings and
instrumentation still apply, and the retry budget inside is shared by every run of the router.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_ai.embeddings import Embedder, EmbeddingModel, EmbeddingResult
from pydantic_ai.embeddings.wrapper import WrapperEmbeddingModel

from ..fallbacks._retrying_embedding_model import RetryingEmbeddingModel

__all__ = ('SafeEmbedder', 'safe_embedding_model')


def safe_embedding_model(model: EmbeddingModel | str) -> EmbeddingModel:
    """`model` inside a `RetryingEmbeddingModel` with its defaults, unless the caller already put one around it."""
    if isinstance(model, str):
        return RetryingEmbeddingModel(model)
    inner = model
    while isinstance(inner, WrapperEmbeddingModel):
        if isinstance(inner, RetryingEmbeddingModel):
            return model
        inner = inner.wrapped
    return RetryingEmbeddingModel(model)


class SafeEmbedder:
    """Calls an `Embedder` with its model inside podium's retry loop; the wrapped model is built on the first call.

    Building it resolves a model name, which needs the provider's credentials, so it waits until a run needs it.
    """

    __slots__ = ('_model',)

    def __init__(self) -> None:
        self._model: EmbeddingModel | None = None

    async def embed_query(self, embedder: Embedder, texts: Sequence[str]) -> EmbeddingResult:
        """`embedder.embed_query(texts)`, each request through the retry loop."""
        if self._model is None:
            self._model = safe_embedding_model(embedder.model)
        with embedder.override(model=self._model):
            return await embedder.embed_query(texts)
