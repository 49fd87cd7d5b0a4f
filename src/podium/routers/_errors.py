"""Errors of the semantic and model routers, under podium's two roots.

::

ConfigurationError (ValueError)
└── PriceUnknown            a model's cost is needed but no price is known for it
WorkflowError (RuntimeError)
└── EmbeddingFailed         the embedding model failed or answered with unusable vectors
"""

from __future__ import annotations

from .._core._errors import ConfigurationError, WorkflowError

__all__ = ('EmbeddingFailed', 'PriceUnknown')


class PriceUnknown(ConfigurationError):
    """Raised when a cost is needed for a model that neither genai-prices nor the `prices=` given know."""

    def __init__(self, message: str, *, models: tuple[str, ...]) -> None:
        super().__init__(message)
        self.models = models


class EmbeddingFailed(WorkflowError):
    """Raised when a semantic router cannot get usable vectors and has no router to escalate to."""
