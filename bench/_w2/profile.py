"""Where a W2 run's client CPU goes: cProfile over sequential runs, own time grouped by the package it is spent in.

    python -m bench._w2.profile [--system podium_default] [--provider openai] [--n 200] [--top 25]

Starts its own W2 server, builds the system, warms it up, profiles ``n`` sequential runs, and prints the own
("tottime") time per run of each group (podium, pydantic_ai, openai/anthropic SDK, httpx2/httpcore2, pydantic,
asyncio, ...) and the functions with the most own time; the last line is the groups as JSON, µs per run.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import pstats
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import anyio

from bench._w1.workload import INPUTS, check

ROOT = Path(__file__).resolve().parent.parent.parent
GROUPS = (  # first match of a path fragment wins
    ('/src/podium/', 'podium'),
    ('/bench/', 'benchmark'),
    ('/pydantic_ai/', 'pydantic_ai'),
    ('/openai/', 'openai SDK'),
    ('/anthropic/', 'anthropic SDK'),
    ('/httpx2/', 'httpx2'),
    ('/httpcore2/', 'httpcore2'),
    ('/h11/', 'h11'),
    ('/pydantic/', 'pydantic'),
    ('/pydantic_core/', 'pydantic'),
    ('/anyio/', 'anyio'),
    ('/asyncio/', 'asyncio'),
    ('/opentelemetry/', 'opentelemetry'),
    ('/logfire', 'logfire'),
    ('/genai_prices/', 'genai_prices'),
)


def group(filename: str) -> str:
    if filename.startswith('~') or filename.startswith('<'):
        return 'builtins (C)'
    return next((name for fragment, name in GROUPS if fragment in filename), 'other Python')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--system', default='podium_default', help='a bench._w2 system module')
    parser.add_argument('--provider', default='openai', choices=('openai', 'anthropic'))
    parser.add_argument('--n', type=int, default=200)
    parser.add_argument('--top', type=int, default=25)
    parser.add_argument('--save', help='also write the raw profile here, for pstats (callers, callees)')
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, '-m', 'bench._w2.server'], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = f'http://127.0.0.1:{int(server.stdout.readline().split()[1])}'
        build = importlib.import_module(f'bench._w2.{args.system}').build
        profiler = cProfile.Profile()

        async def run() -> None:
            run_one = await build(args.provider, base_url)
            for i in range(30):
                text = INPUTS[i % len(INPUTS)]
                check(text, await run_one(text))
            profiler.enable()
            for i in range(args.n):
                text = INPUTS[i % len(INPUTS)]
                check(text, await run_one(text))
            profiler.disable()

        anyio.run(run)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if args.save:
        profiler.dump_stats(args.save)
    stats = pstats.Stats(profiler)
    raw = stats.stats  # type: ignore[attr-defined]
    per_group: dict[str, float] = defaultdict(float)
    calls = 0
    for (filename, _, _), (_, ncalls, tottime, _, _) in raw.items():
        per_group[group(filename)] += tottime
        calls += ncalls
    total = sum(per_group.values())
    per_run = f'{total * 1e6 / args.n:,.0f} µs profiled per run, {calls / args.n:,.0f} calls'
    print(f'{args.system} ({args.provider}): {per_run}')
    for name, seconds in sorted(per_group.items(), key=lambda kv: -kv[1]):
        print(f'  {name:<16} {seconds * 1e6 / args.n:8,.0f} µs/run  {seconds / total:6.1%}')
    print()
    top = sorted(raw.items(), key=lambda kv: -kv[1][2])[: args.top]
    for (filename, line, func), (_, ncalls, tottime, _, _) in top:
        where = f'{Path(filename).parent.name}/{Path(filename).name}:{line}' if filename[0] not in '~<' else filename
        print(f'  {tottime * 1e6 / args.n:7,.0f} µs/run  {ncalls / args.n:6.1f} calls/run  {func}  ({where})')
    print(json.dumps({name: round(s * 1e6 / args.n) for name, s in per_group.items()}))


if __name__ == '__main__':
    main()
