"""What a run cost: each record's usage priced by your prices, Pydantic-AI's, or genai-prices', never a silent 0."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

import genai_prices
from pydantic_ai.usage import RunUsage

from .._core._errors import PriceUnknown, WorkflowError
from .._core._records import RunResult, StepRecord

__all__ = ('ModelPrice', 'Prices', 'Run', 'RunCost', 'records_of', 'run_cost', 'usage_cost')

_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelPrice:
    """A model's price in USD per million tokens: for models genai-prices does not know, or prices you negotiated."""

    input_per_mtok: Decimal | float
    output_per_mtok: Decimal | float
    cache_read_per_mtok: Decimal | float | None = None
    """Price of cached input tokens; the input price when not given."""

    def cost(self, usage: RunUsage) -> Decimal:
        """The cost of `usage` at this price."""
        cached = _decimal(self.cache_read_per_mtok if self.cache_read_per_mtok is not None else self.input_per_mtok)
        fresh = usage.input_tokens - usage.cache_read_tokens
        return (
            fresh * _decimal(self.input_per_mtok)
            + usage.cache_read_tokens * cached
            + usage.output_tokens * _decimal(self.output_per_mtok)
        ) / _MILLION


Prices: TypeAlias = Mapping[str, ModelPrice]
"""Prices by model name as records show it (`StepRecord.model`), optionally with a `provider:` prefix."""

Run: TypeAlias = 'RunResult[Any] | WorkflowError | Iterable[StepRecord]'
"""A finished run, a failed one (its error carries the records), or just the records."""


@dataclass(frozen=True, kw_only=True)
class RunCost:
    """The cost of one or more runs, with every model that could not be priced named rather than counted as 0."""

    total: Decimal | None
    """The cost in USD; `None` when any model's price is unknown."""
    priced: Decimal
    """The cost of the usage whose price is known: a lower bound when `total` is `None`."""
    by_model: Mapping[str, Decimal | None]
    """Cost per model; `None` for the unpriced ones."""
    unpriced: tuple[str, ...]
    """Models with usage but no price; a record with usage but no model name shows as `step <name>`."""

    def require(self) -> Decimal:
        """The total, or `PriceUnknown` naming the models to price."""
        if self.total is None:
            raise PriceUnknown(
                f'no price known for {", ".join(map(repr, self.unpriced))}: pass '
                f'prices={{{self.unpriced[0]!r}: ModelPrice(input_per_mtok=..., output_per_mtok=...)}}',
                models=self.unpriced,
            )
        return self.total


def records_of(run: Run) -> tuple[StepRecord, ...]:
    """The records of a run, however it ended."""
    if isinstance(run, RunResult):
        return run.steps
    if isinstance(run, WorkflowError):
        return run.records
    return tuple(run)


def usage_cost(usage: RunUsage, model: str, prices: Prices | None = None) -> Decimal | None:
    """The cost of `usage` on `model`: your price first, then the cost Pydantic-AI computed, then genai-prices."""
    for key, price in (prices or {}).items():
        if key == model or key.partition(':')[2] == model:
            return price.cost(usage)
    if usage.cost is not None:
        return usage.cost
    try:
        return genai_prices.calc_price(usage, model).total_price
    except (LookupError, ValueError):  # a model or provider genai-prices does not know, or usage it cannot price
        return None


def run_cost(runs: Run | Iterable[Run], prices: Prices | None = None) -> RunCost:
    """The cost of a run (or of several, summed), model by model.

    Args:
        runs: A run (`RunResult`, `WorkflowError` or records), or a list of runs.
        prices: Your prices, which win over any other; needed for models genai-prices does not know.
    """
    by_model: dict[str, Decimal | None] = {}
    for record in _all_records(runs):
        usage = record.usage
        if not (usage.requests or usage.input_tokens or usage.output_tokens):
            continue
        model = record.model or f'step {record.name}'
        cost = usage_cost(usage, record.model, prices) if record.model is not None else None
        known = by_model.get(model, Decimal(0))
        by_model[model] = None if cost is None or known is None else known + cost
    unpriced = tuple(sorted(m for m, c in by_model.items() if c is None))
    priced = sum((c for c in by_model.values() if c is not None), Decimal(0))
    return RunCost(total=None if unpriced else priced, priced=priced, by_model=by_model, unpriced=unpriced)


def _all_records(runs: Run | Iterable[Run]) -> Iterable[StepRecord]:
    if isinstance(runs, RunResult | WorkflowError):
        yield from records_of(runs)
        return
    for item in runs:
        if isinstance(item, StepRecord):
            yield item
        else:
            yield from records_of(item)


def _decimal(value: Decimal | float) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
