"""Checks of numeric arguments, for callers without a type checker.

They get a clear `ConfigurationError`, never a `TypeError` from a comparison deep inside, nor a NaN that slips
through every comparison.
"""

from __future__ import annotations

import math

from typing_extensions import TypeIs

from ._errors import ConfigurationError

__all__ = ('is_count', 'is_number', 'require_fraction', 'require_seconds')


def require_seconds(value: object, what: str) -> float:
    """`value` as positive, finite seconds."""
    if not is_number(value) or not 0 < value < math.inf:
        raise ConfigurationError(f'{what} must be positive (seconds), got {value!r}')
    return float(value)


def require_fraction(value: object, what: str) -> float:
    """`value` as a number within [0, 1]."""
    if not is_number(value) or not 0 <= value <= 1:
        raise ConfigurationError(f'{what} must be within [0, 1], got {value!r}')
    return float(value)


def is_number(value: object) -> TypeIs[float]:
    """A real number: an int or a float, not a bool (which Python counts as an int) and not NaN."""
    return not isinstance(value, bool) and isinstance(value, int | float) and not math.isnan(value)


def is_count(value: object) -> TypeIs[int]:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)
