"""The support desk with semantic routing first: embeddings decide the easy messages, the LLM router the rest.

A `SemanticRouter` compares each message with a few example messages per route. When the nearest example is close
enough it routes right away, with no LLM call; when it is not, it escalates to the support desk's LLM router. The
specialists are the support desk's own (examples/support_desk.py). Offline by default on a deterministic hashed
bag-of-words embedding model (it matches shared words, not meaning) and the desk's demo models; pass
`--embedder openai:text-embedding-3-small --model openai:gpt-4o-mini` for real ones.

    python examples/semantic_desk.py                      # every message of support_desk_cases.yaml
    python examples/semantic_desk.py "I was charged twice"
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import anyio
import yaml
from pydantic_ai.embeddings import EmbeddingModel
from pydantic_ai.exceptions import UserError

import podium
from podium import Route, Router, SemanticRouter, Step
from podium.testing import HashingEmbeddingModel

sys.path.insert(0, str(Path(__file__).parent))
from support_desk import DEMO_LABEL, Reply
from support_desk import build_desk as build_llm_desk

CASES = Path(__file__).with_name('support_desk_cases.yaml')
UTTERANCES = {
    'billing': [
        'I was charged twice',
        'my invoice is wrong',
        'please refund my payment',
        'how do I update my credit card for billing',
        'where is the invoice for my subscription',
    ],
    'tech': [
        'the app crashes',
        'I cannot log in, login error',
        'the page is broken and shows an error',
        'everything is very slow',
        'I found a bug',
    ],
    'sales': [
        'we want to buy more seats',
        'what does the pricing of your plans look like',
        'I would like to upgrade my plan',
        'can I get a quote',
    ],
    'out_of_scope': ['tell me a joke', 'what is the weather today', 'write me a poem'],
}
"""A few example messages per route; the more varied, the fewer messages need the LLM router."""
THRESHOLD = 0.4
"""How close the nearest example must be for the embeddings alone to decide (cosine similarity)."""


def build_workflow(
    model: str | None = None, embedder: EmbeddingModel | str | None = None
) -> SemanticRouter[str, Reply]:
    """The desk: semantic routing, escalating to the LLM router on `model` (or the demo models) when unsure."""
    llm_desk = build_llm_desk(model)
    assert isinstance(llm_desk, Router)
    desk: Router[str, Reply] = llm_desk
    routes: dict[str, Step[str, Reply] | Route[str, Reply]] = {
        route: Route(step, desk.descriptions[route]) for route, step in desk.steps.items()
    }
    return SemanticRouter(
        routes,
        utterances=UTTERANCES,
        embedder=embedder or HashingEmbeddingModel(),
        fallback='out_of_scope',
        threshold=THRESHOLD,
        escalate=desk,
        name='semantic_desk',
    )


workflow = build_workflow()
"""The semantic desk on offline models: `podium run examples/semantic_desk.py:workflow "..."`."""


def messages(path: Path = CASES) -> list[tuple[str, str]]:
    """The `(message, expected route)` pairs of the support desk's case file (rows a guard answers have no route)."""
    rows = yaml.safe_load(path.read_text(encoding='utf-8'))['cases']
    return [(row['inputs'], row['route']) for row in rows if 'route' in row]


async def route_all(desk: SemanticRouter[str, Reply], cases: list[tuple[str, str]]) -> Counter[str]:
    """Route every message; count how each was decided and whether the route was the expected one."""
    counts: Counter[str] = Counter()
    for text, expected in cases:
        result = await desk.run(text)
        record = result.record(desk.name)
        way = 'llm' if record.detail.get('escalated') else 'semantic'
        counts[way] += 1
        counts[f'{way}_right'] += record.route == expected
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('message', nargs='?', help='one customer message (default: every message of the case file)')
    parser.add_argument('--model', help='the LLM router and specialists, e.g. openai:gpt-4o-mini (default: demo)')
    parser.add_argument('--embedder', help='an embedding model, e.g. openai:text-embedding-3-small (default: hashing)')
    parser.add_argument('--fit', action='store_true', help='first tune the thresholds on 70%% of the case file')
    args = parser.parse_args(argv)
    desk = build_workflow(args.model, args.embedder) if args.model or args.embedder else workflow
    print(f'models:    {args.model or DEMO_LABEL}; embeddings: {args.embedder or "hashed bag of words (offline)"}')
    try:
        if args.message:
            result = desk.run_sync(args.message)
            record = result.record(desk.name)
            print(f'route:     {record.route}  {dict(record.detail)}')
            print(f'reply:     {result.output.text}')
            return
        cases = messages()
        if args.fit:
            fit = anyio.run(lambda: desk.fit(cases, min_precision=0.9))
            print(f'fit:       {fit.calibration_cases} messages tuned {dict(fit.thresholds)}')
            print(
                f'           held out: {fit.coverage:.0%} decided by embeddings, {fit.precision or 0:.0%} of them right'
            )
        counts = anyio.run(route_all, desk, cases)
    except (UserError, podium.WorkflowError) as exc:
        raise SystemExit(f'error: {exc}') from None
    print(f'messages:  {len(cases)}')
    print(
        f'semantic:  {counts["semantic"]} decided by embeddings alone, {counts["semantic_right"]} on the expected route'
    )
    print(f'LLM:       {counts["llm"]} needed the LLM router, {counts["llm_right"]} on the expected route')


if __name__ == '__main__':
    main()
