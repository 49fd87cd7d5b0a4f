"""Workload W1 ("router + 3-step chain") on podium and its peers: a markdown table, then one JSON line.

    python bench/w1.py [--quick] [--reps 3] [--only pai_raw,podium]

Every (system, mode, repetition) runs in a fresh interpreter, so no system inherits another's imports, caches
or heap. Odd repetitions run the systems in reverse order, so no system always runs first or last on a
machine that warms up or gets busier. Each figure is the median over repetitions. Progress goes to stderr;
stdout has the table, the versions and, as its last line, a JSON object keyed by system id plus the ratios of
podium's systems to raw Pydantic-AI (null when either side was not measured): `<id>_vs_raw` compares the
sequential runs' CPU time, which other processes on a shared machine do not inflate, and `<id>_wall_vs_raw` their
wall time (the same on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = 'bench._w1'
BASELINE = 'pai_raw'
METRICS = {  # result key in the JSON line -> (mode, key in the system's output)
    'seq_us': ('seq', 'median_us'),
    'seq_cpu_us': ('seq', 'cpu_median_us'),
    'seq_p99_us': ('seq', 'p99_us'),
    'runs_per_s': ('conc', 'runs_per_s'),
    'cpu_ms_per_run': ('conc', 'cpu_ms_per_run'),
    'peak_rss_mb': ('conc', 'peak_rss_mb'),
}
PODIUM_SYSTEMS = ('podium', 'podium_agent_path', 'podium_traced')
# Ratios to BASELINE: `<id>_vs_raw` of sequential CPU µs per run, which other processes on a shared machine do not
# inflate; `<id>_wall_vs_raw` of sequential wall µs per run, the same figure on a quiet machine.
RATIOS = {f'{sid}_vs_raw': (sid, 'seq_cpu_us') for sid in PODIUM_SYSTEMS} | {
    f'{sid}_wall_vs_raw': (sid, 'seq_us') for sid in PODIUM_SYSTEMS
}


@dataclass(frozen=True)
class System:
    id: str
    module: str
    label: str

    @property
    def path(self) -> Path:
        return ROOT / 'bench' / '_w1' / f'{self.module}.py'


SYSTEMS = (
    System('pai_raw', 'pai_raw', 'Pydantic-AI raw'),
    System('pai_logfire', 'pai_logfire', 'Pydantic-AI + Logfire'),
    System('podium', 'podium_default', 'podium'),
    System('podium_agent_path', 'podium_agent_path', 'podium (agent path)'),
    System('podium_traced', 'podium_traced', 'podium + tracing'),
    System('langgraph_lc', 'langgraph_lc', 'LangGraph + LangChain fake model'),
    System('oai_agents', 'oai_agents', 'OpenAI Agents SDK (chained)'),
    System('floor', 'floor', 'floor: pydantic validation only'),
)


class SystemFailedError(Exception):
    pass


def measure(system: System, mode: str, args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, '-m', f'{PACKAGE}.{system.module}', '--mode', mode, *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode or not lines:
        why = f'exited with {proc.returncode}' if proc.returncode else 'printed no result'
        raise SystemFailedError(f'{system.id} {mode} {why}:\n{proc.stderr.strip()}')
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise SystemFailedError(f'{system.id} {mode} did not end with a JSON line: {lines[-1]!r}') from exc


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='a rough pass in under 3 minutes: 1 rep, fewer runs')
    parser.add_argument('--reps', type=int, help='repetitions per system (default 3, or 1 with --quick)')
    parser.add_argument('--only', help='comma-separated system ids: ' + ', '.join(s.id for s in SYSTEMS))
    parser.add_argument('--seq-n', type=int, help='timed sequential runs (default 2000, or 300 with --quick)')
    parser.add_argument('--warmup', type=int, help='untimed sequential runs first (default 200, or 50 with --quick)')
    parser.add_argument('--conc-n', type=int, help='concurrent runs (default 2000, or 500 with --quick)')
    parser.add_argument('--timeout', type=float, default=900, help='seconds allowed per subprocess')
    args = parser.parse_args()
    quick = args.quick
    args.reps = args.reps or (1 if quick else 3)
    args.seq_n = args.seq_n or (300 if quick else 2000)
    args.warmup = args.warmup if args.warmup is not None else (50 if quick else 200)
    args.conc_n = args.conc_n or (500 if quick else 2000)
    if args.only:
        known = {s.id for s in SYSTEMS}
        wanted = args.only.split(',')
        if unknown := [i for i in wanted if i not in known]:
            parser.error(f'unknown system id(s): {", ".join(unknown)}')
    return args


def selected_systems(only: str | None) -> list[System]:
    """The systems asked for whose module exists; a missing module is noted, not an error."""
    systems = []
    for system in SYSTEMS:
        if only and system.id not in only.split(','):
            continue
        if system.path.exists():
            systems.append(system)
        else:
            print(f'skipping {system.id}: {system.path.relative_to(ROOT)} does not exist yet', file=sys.stderr)
    return systems


def run_all(systems: list[System], args: argparse.Namespace) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
    """Every system, seq then conc, ``args.reps`` times; returns the raw outputs per system and the failed ids."""
    mode_args = {
        'seq': ['--n', str(args.seq_n), '--warmup', str(args.warmup)],
        'conc': ['--n', str(args.conc_n)],
    }
    outputs: dict[str, list[dict[str, Any]]] = {s.id: [] for s in systems}
    failed: set[str] = set()
    for rep in range(args.reps):
        for system in systems if rep % 2 == 0 else systems[::-1]:
            if system.id in failed:
                continue
            for mode, extra in mode_args.items():
                start = time.perf_counter()
                try:
                    out = measure(system, mode, extra, args.timeout)
                except (SystemFailedError, subprocess.TimeoutExpired) as exc:
                    print(f'FAILED {exc}', file=sys.stderr)
                    failed.add(system.id)
                    break
                outputs[system.id].append(out)
                shown = (
                    f'{out["median_us"]:,.0f} µs/run, {out["cpu_median_us"]:,.0f} CPU'
                    if mode == 'seq'
                    else f'{out["runs_per_s"]:,.1f} runs/s'
                )
                took = time.perf_counter() - start
                print(f'rep {rep + 1}/{args.reps} {system.id:<17} {mode:<4} {shown} ({took:.1f} s)', file=sys.stderr)
    return outputs, failed


def summarize(outputs: list[dict[str, Any]]) -> dict[str, float]:
    """Median over repetitions of each metric."""
    return {
        name: statistics.median(out[key] for out in outputs if out['mode'] == mode)
        for name, (mode, key) in METRICS.items()
    }


def cpu_ms(value: float) -> str:
    return f'{value:.2f}' if value < 1 else f'{value:.1f}'


def table(systems: list[System], results: dict[str, dict[str, float]]) -> str:
    base = results.get(BASELINE, {}).get('seq_cpu_us')
    lines = [
        '| system | seq µs/run median | seq µs/run p99 | seq CPU µs/run median | vs raw Pydantic-AI (CPU) '
        '| conc runs/s | conc CPU ms/run | peak RSS MB |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for system in systems:
        if (r := results.get(system.id)) is None:
            continue
        ratio = f'{r["seq_cpu_us"] / base:.3f}' if base else '-'
        lines.append(
            f'| {system.label} | {r["seq_us"]:,.0f} | {r["seq_p99_us"]:,.0f} | {r["seq_cpu_us"]:,.0f} | {ratio} '
            f'| {r["runs_per_s"]:,.1f} | {cpu_ms(r["cpu_ms_per_run"])} | {r["peak_rss_mb"]:,.0f} |'
        )
    return '\n'.join(lines)


def versions(outputs: dict[str, list[dict[str, Any]]]) -> str:
    found: dict[str, str] = {}
    for runs in outputs.values():
        for out in runs:
            found.update(out.get('versions', {}))
    return 'Versions: ' + ', '.join(f'{name} {found[name]}' for name in sorted(found))


def main() -> None:
    args = parse_args()
    systems = selected_systems(args.only)
    if not systems:
        raise SystemExit('no system to run')
    start = time.perf_counter()
    outputs, failed = run_all(systems, args)
    results = {s.id: summarize(outputs[s.id]) for s in systems if s.id not in failed}
    base = results.get(BASELINE, {})
    summary: dict[str, Any] = {sid: {k: round(v, 3) for k, v in r.items()} for sid, r in results.items()}
    for key, (sid, metric) in RATIOS.items():
        summary[key] = round(results[sid][metric] / base[metric], 3) if base and sid in results else None
    print(
        f'W1, {args.reps} rep(s): seq = {args.seq_n} sequential runs after {args.warmup} warm-up; '
        f'conc = {args.conc_n} concurrent runs, 50 ms per model call. Wall {time.perf_counter() - start:.0f} s.\n'
    )
    print(table(systems, results))
    print()
    print(versions({sid: outputs[sid] for sid in results}))
    print(json.dumps(summary))
    if failed:
        print(f'failed: {", ".join(sorted(failed))}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
