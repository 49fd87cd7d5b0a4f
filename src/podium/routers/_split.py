"""A seeded calibration / held-out split, shared by `SemanticRouter.fit` and `ModelRouter.calibrate`."""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from .._core._errors import ConfigurationError

__all__ = ('holdout_split',)

T = TypeVar('T')


def holdout_split(
    items: Sequence[T], fraction: float, *, seed: int, group: Callable[[T], Hashable] | None = None
) -> tuple[list[T], list[T]]:
    """Split `items` into (calibration, held-out), `fraction` of each group held out, the same way for a seed.

    Grouping (by label) keeps every label on both sides, so no route is tuned or judged on nothing.
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigurationError(f'holdout must be a fraction between 0 and 1, got {fraction}')
    groups: dict[Hashable, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(group(item) if group is not None else None, []).append(index)
    rng = random.Random(seed)
    held: set[int] = set()
    for indices in groups.values():
        rng.shuffle(indices)
        held.update(indices[: round(len(indices) * fraction)])
    return [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]
