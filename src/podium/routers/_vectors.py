"""Embedding texts for routing: checked vectors, a cache of utterance vectors, and cosine similarity."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import mul
from typing import TypeAlias

from pydantic_ai.embeddings import Embedder
from pydantic_ai.usage import RunUsage

from .._core._errors import EmbeddingFailed
from .._core._redact import describe
from ._semantic_embedder import SafeEmbedder

__all__ = ('Embedded', 'EmbeddingCache', 'Vector', 'embed_texts', 'model_key', 'similarity')

Vector: TypeAlias = tuple[float, ...]
"""A unit-length vector (or all zeros, for text an embedding model maps to nothing)."""


class EmbeddingCache:
    """Vectors by embedding model and text, so each utterance is embedded once.

    Each router keeps its own by default; pass one cache to several routers to share their utterance vectors.
    """

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], Vector] = {}

    def get(self, model: str, text: str) -> Vector | None:
        """The vector of `text` under `model`, if it was embedded before."""
        return self._vectors.get((model, text))

    def put(self, model: str, text: str, vector: Vector) -> None:
        """Keep the vector of `text` under `model`."""
        self._vectors[(model, text)] = vector

    def __len__(self) -> int:
        return len(self._vectors)


@dataclass(frozen=True, slots=True)
class Embedded:
    """The checked vectors of one embedding call, with what the call cost."""

    vectors: list[Vector]
    usage: RunUsage
    model: str


def model_key(embedder: Embedder) -> str:
    """The cache key of an embedder's model: `provider:name`, as the model string would spell it."""
    model = embedder.model
    return model if isinstance(model, str) else f'{model.system}:{model.model_name}'


async def embed_texts(
    embedder: Embedder, texts: Sequence[str], *, step: str, via: SafeEmbedder | None = None
) -> Embedded:
    """Embed `texts` as queries (utterances are example queries too) and check the answer is usable.

    `via` sends the call through podium's retry loop (see `SafeEmbedder`); without it, the embedder is called as is.

    Raises:
        EmbeddingFailed: when the call raises, or returns the wrong number of vectors or vectors of mixed sizes.
    """
    name = model_key(embedder)
    try:
        result = await (embedder.embed_query(texts) if via is None else via.embed_query(embedder, texts))
    except Exception as exc:  # any provider or client error: the router decides whether it can go on without
        raise EmbeddingFailed(f'router {step!r}: embedding model {name!r} failed: {describe(exc)}', step=step) from exc
    if len(result.embeddings) != len(texts):
        raise EmbeddingFailed(
            f'router {step!r}: embedding model {name!r} returned {len(result.embeddings)} vectors for {len(texts)} '
            'texts',
            step=step,
        )
    sizes = sorted({len(v) for v in result.embeddings})
    if len(sizes) > 1 or sizes == [0]:
        raise EmbeddingFailed(
            f'router {step!r}: embedding model {name!r} returned vectors of sizes {sizes} in one call; a model must '
            'give every text a vector of the same, non-zero size',
            step=step,
        )
    if not all(math.isfinite(x) for vector in result.embeddings for x in vector):
        raise EmbeddingFailed(f'router {step!r}: embedding model {name!r} returned NaN or infinite values', step=step)
    usage = RunUsage(requests=1)
    usage.incr(result.usage)
    return Embedded([_unit(v) for v in result.embeddings], usage, result.model_name)


def _unit(vector: Sequence[float]) -> Vector:
    norm = math.sqrt(sum(x * x for x in vector))
    return tuple(x / norm for x in vector) if norm else tuple(0.0 for _ in vector)


def similarity(a: Vector, b: Vector) -> float:
    """Cosine similarity of two unit vectors: their dot product."""
    return float(sum(map(mul, a, b)))
