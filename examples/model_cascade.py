"""A model cascade: a cheap model answers first, and the strong model only when the cheap one is unsure.

The cheap tier's typed output carries its own confidence; the cascade keeps the answer when the confidence reaches
the threshold, else escalates. `ModelRouter.calibrate` picks the cheapest threshold that keeps 95% of the strong
model's quality on held-out cases. Offline by default on two SIMULATED models (deterministic stand-ins, not LLMs:
the cheap one gets hard questions wrong more often, and its confidence says so only roughly); pass real ones with
`--cheap openai:gpt-4o-mini --strong openai:gpt-4o`.

    python examples/model_cascade.py --plot curve.png
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import operator
import re
from collections.abc import Callable
from pathlib import Path

import anyio
import yaml
from pydantic import BaseModel, Field
from pydantic_ai import Agent
from pydantic_ai.exceptions import UserError
from pydantic_ai.models import Model

import podium
from podium import ModelRouter
from podium.evals import write_curve_png
from podium.routers import ConfidenceCheck, ModelPrice
from podium.testing import ScriptedModel

CASES = Path(__file__).with_name('model_cascade_cases.yaml')
SIMULATED_LABEL = 'SIMULATED models (offline, deterministic, not LLMs): pass --cheap and --strong to use real ones'
DEFAULT_THRESHOLD = 0.72
"""The threshold `python examples/model_cascade.py` calibrates on the simulated models."""
SIMULATED_PRICES = {
    'simulated-cheap': ModelPrice(input_per_mtok=0.15, output_per_mtok=0.60),
    'simulated-strong': ModelPrice(input_per_mtok=2.50, output_per_mtok=10.00),
}
"""What the simulated models cost: gpt-4o-mini's and gpt-4o's list prices. Real models are priced by genai-prices."""
INSTRUCTIONS = (
    'Compute the arithmetic. Give the integer value, and your confidence from 0 to 1 that it is exactly right.'
)


class Answer(BaseModel):
    """The typed answer of every tier: the value, and how sure the model is of it."""

    value: int = Field(description='The result.')
    confidence: float = Field(ge=0.0, le=1.0, description='How sure you are the value is exactly right, 0 to 1.')


# ---------------------------------------------------------------- simulated models: deterministic, no network
_OPERATORS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


def _evaluate(node: ast.expr) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    raise ValueError('not + - * over integers')


def _question(prompt: str) -> tuple[int, int]:
    """The right value of the question, and its difficulty: 0 (one small step) to 2 (multi-digit products)."""
    expression = prompt.strip().removeprefix('What is').rstrip('?').strip()
    value = _evaluate(ast.parse(expression, mode='eval').body)
    numbers = [int(n) for n in re.findall(r'\d+', expression)]
    if '(' in expression or ('*' in expression and min(numbers) >= 10):
        return value, 2
    return value, int('*' in expression or max(numbers) >= 100)


def _draw(prompt: str, salt: str) -> float:
    """A number in [0, 1) fixed by the prompt: the simulation's dice."""
    digest = hashlib.blake2b(f'{salt}:{prompt}'.encode(), digest_size=8).digest()
    return int.from_bytes(digest, 'big') / 2**64


def _simulated(error_rates: tuple[float, float, float], sureness: tuple[float, float, float], salt: str) -> Model:
    def answer(prompt: str) -> Answer:
        value, difficulty = _question(prompt)
        wrong = _draw(prompt, salt) < error_rates[difficulty]
        noise = (_draw(prompt, f'{salt}:noise') - 0.5) * 0.2
        confidence = sureness[difficulty] + noise - (0.12 if wrong else 0.0)
        offset = 10 ** int(_draw(prompt, f'{salt}:digit') * 2) if wrong else 0
        return Answer(value=value + offset, confidence=round(min(0.99, max(0.01, confidence)), 2))

    return ScriptedModel(default=answer, model_name=f'simulated-{salt}')


def simulated_cheap() -> Model:
    """Right on 97% of easy, 85% of medium and 55% of hard questions; less sure when hard, and a bit when wrong."""
    return _simulated((0.03, 0.15, 0.45), (0.95, 0.82, 0.68), 'cheap')


def simulated_strong() -> Model:
    """Right on 99% of easy and medium and 96% of hard questions, and nearly always sure."""
    return _simulated((0.01, 0.01, 0.04), (0.97, 0.95, 0.93), 'strong')


# ---------------------------------------------------------------- the workflow
def build_workflow(
    cheap: Model | str | None = None, strong: Model | str | None = None, *, threshold: float = DEFAULT_THRESHOLD
) -> ModelRouter[str, Answer]:
    """The cascade on `cheap` then `strong` (both `cheap` when only it is given), or on the simulated models."""
    strong = strong or cheap
    tiers = {
        'cheap': podium.agent(
            Agent(cheap or simulated_cheap(), output_type=Answer, instructions=INSTRUCTIONS, name='cheap')
        ),
        'strong': podium.agent(
            Agent(strong or simulated_strong(), output_type=Answer, instructions=INSTRUCTIONS, name='strong')
        ),
    }
    return ModelRouter(
        tiers, accept=ConfidenceCheck('confidence'), threshold=threshold, prices=SIMULATED_PRICES, name='model_cascade'
    )


workflow = build_workflow()
"""The cascade on the simulated models: `podium run examples/model_cascade.py:workflow "What is 17 * 23?"`."""


def load_cases(path: Path = CASES) -> list[tuple[str, dict[str, int]]]:
    """The case file's `(question, {'value': right answer})` pairs."""
    rows = yaml.safe_load(path.read_text(encoding='utf-8'))['cases']
    return [(row['inputs'], row['output']) for row in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--cheap', help='the cheap model, e.g. openai:gpt-4o-mini (default: simulated)')
    parser.add_argument('--strong', help='the strong model, e.g. openai:gpt-4o (default: simulated)')
    parser.add_argument('--target', type=float, default=0.95, help='quality to keep, relative to the strong model')
    parser.add_argument('--plot', type=Path, help='write the cost-quality curve to this PNG')
    args = parser.parse_args(argv)
    real = args.cheap or args.strong
    try:
        router = build_workflow(args.cheap, args.strong) if real else build_workflow()
        result = anyio.run(lambda: router.calibrate(load_cases(), target_quality=args.target))
    except (UserError, podium.WorkflowError) as exc:
        raise SystemExit(f'error: {exc}') from None
    print(f'models:       {f"{args.cheap} -> {args.strong or args.cheap}" if real else SIMULATED_LABEL}')
    print(f'calibration:  {result.status}: {result.reason}')
    if result.threshold is not None:
        print(f'threshold:    {result.threshold:.4g} (cheap answers with confidence below it go to the strong model)')
        print(f'quality:      {result.quality_vs_strong:.1%} of always-strong on {result.holdout_cases} held-out cases')
        print(f'cost:         {result.cost_vs_strong:.1%} of always-strong')
        print(f'escalated:    {result.escalation_rate:.1%} of questions')
    if args.plot:
        write_curve_png(result.curve, args.plot, chosen=result.threshold, target=args.target)
        print(f'curve:        {args.plot}')


if __name__ == '__main__':
    main()
