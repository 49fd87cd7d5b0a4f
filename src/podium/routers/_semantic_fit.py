"""Calibrating a semantic router's per-route thresholds on labelled messages, and judging them on held-out ones.

A message's fate depends only on the threshold of its nearest route, so each route's threshold is tuned on the
messages nearest to it, independently and exactly (every distinct similarity is a candidate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ('Scored', 'SemanticFit', 'evaluate', 'tune')

MIN_CASES_PER_ROUTE = 2
"""Fewer calibration messages than this nearest to a route leave its threshold as it was."""


@dataclass(frozen=True, slots=True)
class Scored:
    """A labelled message as the router sees it: its nearest route and how similar it is."""

    nearest: str
    similarity: float
    label: str


@dataclass(frozen=True, kw_only=True)
class SemanticFit:
    """What `SemanticRouter.fit` set, and how the router alone does with it on held-out messages."""

    thresholds: Mapping[str, float]
    """The thresholds now set on the router, per route."""
    untuned: tuple[str, ...]
    """Routes with too few calibration messages nearest to them to tune; they keep their threshold."""
    calibration_cases: int
    holdout_cases: int
    accuracy: float
    """Held-out share routed right when a message below its threshold goes to the fallback route."""
    coverage: float
    """Held-out share decided by similarity alone (the rest escalate, or go to the fallback)."""
    precision: float | None
    """Held-out share routed right among the messages decided by similarity; `None` when none was."""


def tune(
    scored: Sequence[Scored], current: Mapping[str, float], *, fallback: str, min_precision: float | None
) -> tuple[dict[str, float], tuple[str, ...]]:
    """New thresholds per route, and the routes left untuned.

    Without `min_precision`, each threshold maximises accuracy when a message below it goes to the fallback route.
    With it, each threshold is the lowest whose accepted messages are at least `min_precision` right: the setting
    for a router that escalates, where an unsure message costs an LLM call rather than a wrong answer.
    """
    thresholds = dict(current)
    untuned: list[str] = []
    for route in current:
        mine = sorted((s for s in scored if s.nearest == route), key=lambda s: s.similarity)
        if len(mine) < MIN_CASES_PER_ROUTE:
            untuned.append(route)
            continue
        thresholds[route] = _best(mine, route, fallback, min_precision)
    return thresholds, tuple(untuned)


def _best(mine: Sequence[Scored], route: str, fallback: str, min_precision: float | None) -> float:
    """The threshold for the messages nearest `route` (sorted by similarity): accept from index `cut` up."""
    n = len(mine)
    right_above = [0] * (n + 1)  # right_above[i]: messages from i up that are `route`
    for i in range(n - 1, -1, -1):
        right_above[i] = right_above[i + 1] + (mine[i].label == route)
    fallback_below = [0] * (n + 1)  # fallback_below[i]: messages below i labelled with the fallback
    for i in range(n):
        fallback_below[i + 1] = fallback_below[i] + (mine[i].label == fallback)
    cuts = [i for i in range(n + 1) if i in (0, n) or mine[i].similarity > mine[i - 1].similarity]
    if min_precision is None:
        cut = max(cuts, key=lambda i: (right_above[i] + fallback_below[i], -i))
    else:
        cut = next(i for i in cuts if i == n or right_above[i] >= min_precision * (n - i))
    if cut == n:
        return math.nextafter(mine[-1].similarity, math.inf)
    if cut == 0:
        return mine[0].similarity
    return (mine[cut - 1].similarity + mine[cut].similarity) / 2  # midway: the widest margin on both sides


def evaluate(
    scored: Sequence[Scored], thresholds: Mapping[str, float], *, fallback: str
) -> tuple[float, float, float | None]:
    """Held-out (accuracy, coverage, precision) of the router alone at `thresholds`."""
    decided = [s for s in scored if s.similarity >= thresholds[s.nearest]]
    right = sum(s.label == s.nearest for s in decided)
    below_right = sum(s.label == fallback for s in scored if s.similarity < thresholds[s.nearest])
    total = len(scored)
    return (
        (right + below_right) / total,
        len(decided) / total,
        right / len(decided) if decided else None,
    )
