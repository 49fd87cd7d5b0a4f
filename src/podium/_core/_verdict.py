"""`GuardVerdict`: what a guard decides about one input or output, typed so a model can answer with it too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ('GuardVerdict',)


class GuardVerdict(BaseModel):
    """A guard's decision: let the value through, let a replacement (a redacted copy) through, or stop it.

    It lives in the core because `GuardTripped` carries it; `podium.guards` is where it is used.
    """

    model_config = ConfigDict(frozen=True)

    allowed: bool = Field(description='True when the value may go on; false stops it.')
    reason: str = Field(default='', description='Why, in one short sentence.')
    replacement: Any = Field(
        default=None,
        description='A value to pass on instead of the one checked (a redacted copy), or null to pass it as it is.',
    )

    @classmethod
    def allow(cls, reason: str = '', *, replacement: object = None) -> GuardVerdict:
        """Let the value through (or `replacement` in its place)."""
        return cls(allowed=True, reason=reason, replacement=replacement)

    @classmethod
    def block(cls, reason: str) -> GuardVerdict:
        """Stop the value, saying why."""
        return cls(allowed=False, reason=reason)
