"""`HashingEmbeddingModel`: a deterministic bag-of-words embedding model for tests and offline demos."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from pydantic_ai.embeddings import EmbeddingModel, EmbeddingResult, EmbeddingSettings
from pydantic_ai.embeddings.result import EmbedInputType
from pydantic_ai.usage import RequestUsage

from .._core._errors import ConfigurationError

__all__ = ('HashingEmbeddingModel',)

_WORD = re.compile(r"[a-z0-9']+")
# fmt: off
_STOP = frozenset((
    'a', 'an', 'and', 'are', 'at', 'be', 'but', 'can', 'do', 'does', 'for', 'from', 'have', 'how', 'i', 'in', 'is',
    'it', 'its', 'me', 'my', 'of', 'on', 'or', 'our', 'so', 'that', 'the', 'this', 'to', 'was', 'we', 'what',
    'when', 'why', 'with', 'you', 'your',
))
# fmt: on


class HashingEmbeddingModel(EmbeddingModel):
    """Embeds text as hashed word stems: texts that share words are close, everything else is orthogonal.

    It has no notion of meaning (synonyms score zero), which is what makes it useful for tests: similarities are
    predictable from the words alone, with no network and no weights. Stems are the first five letters of each word,
    so `charge`, `charged` and `charges` count as one; common function words are dropped.
    """

    def __init__(
        self, *, dimensions: int = 256, model_name: str = 'hashing-bow', settings: EmbeddingSettings | None = None
    ):
        super().__init__(settings=settings)
        if dimensions < 1:
            raise ConfigurationError(f'dimensions must be at least 1, got {dimensions}')
        self.dimensions = dimensions
        self._model_name = model_name
        self.calls: list[list[str]] = []
        """The inputs of each `embed` call, for asserting how often the model was asked."""

    @property
    def model_name(self) -> str:
        """The name results report."""
        return self._model_name

    @property
    def system(self) -> str:
        """The provider results report."""
        return 'podium-test'

    async def embed(
        self, inputs: str | Sequence[str], *, input_type: EmbedInputType, settings: EmbeddingSettings | None = None
    ) -> EmbeddingResult:
        """Embed each input; the number of words is reported as input tokens."""
        texts, merged = self.prepare_embed(inputs, settings)
        self.calls.append(texts)
        dimensions = merged.get('dimensions') or self.dimensions
        return EmbeddingResult(
            embeddings=[_vector(text, dimensions) for text in texts],
            inputs=texts,
            input_type=input_type,
            model_name=self.model_name,
            provider_name=self.system,
            usage=RequestUsage(input_tokens=sum(len(_WORD.findall(text.lower())) for text in texts)),
        )


def _vector(text: str, dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        digest = hashlib.blake2b(word[:5].encode(), digest_size=8).digest()
        number = int.from_bytes(digest, 'big')
        vector[number % dimensions] += 1.0 if number >> 63 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector
