"""What each part of a traced W1 run costs: the same workflow with different spans, sequential µs per run.

    python bench/traced_layout.py [--reps 3] [--n 1000]

Each (layout, repetition) runs in a fresh interpreter, order reversed on odd repetitions; medians over repetitions.
Prints a markdown table and, as its last line, a JSON object of µs per run by layout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.w1 import System, measure

LAYOUTS = (
    System('untraced', 'podium_default', 'untraced (lean path)'),
    System('pydantic_ai_spans', 'podium_pai_spans', "Pydantic-AI's spans only: `<agent> run` + `chat` per call"),
    System('default', 'podium_traced', 'podium.instrument(): run + step spans, `chat` per call'),
    System('agent_run_spans', 'podium_traced_agent_runs', 'podium.instrument(agent_run_spans=True): all of them'),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--n', type=int, default=1000)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {layout.id: [] for layout in LAYOUTS}
    for rep in range(args.reps):
        order = LAYOUTS if rep % 2 == 0 else tuple(reversed(LAYOUTS))
        for layout in order:
            result = measure(layout, 'seq', ['--n', str(args.n)], timeout=600)
            samples[layout.id].append(result['median_us'])
            print(f'rep {rep + 1}/{args.reps} {layout.id:<18} {result["median_us"]:,.0f} µs/run', file=sys.stderr)
    medians = {key: round(statistics.median(values), 1) for key, values in samples.items()}
    print('| layout | µs/run |\n|---|---:|')
    for layout in LAYOUTS:
        print(f'| {layout.label} | {medians[layout.id]:,.0f} |')
    print(json.dumps(medians))


if __name__ == '__main__':
    main()
