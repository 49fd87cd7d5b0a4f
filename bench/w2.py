"""Workload W2: W1's "router + 3-step chain" over the real wire, on podium and its peers; a table, then JSON.

    python bench/w2.py [--quick] [--reps 3] [--only pai_raw,podium]

Every agent talks to a real provider model (the openai or anthropic SDK over httpx) pointed at
``bench._w2.server``, a local OpenAI- and Anthropic-compatible server in a process of its own that answers W1's
fixed JSON. Every (system, mode, repetition) runs in a fresh client process against a fresh server; odd
repetitions run the systems in reverse order; each figure is the median over repetitions.

``seq``: sequential runs, no server delay: client CPU per run (the client process's rusage only), latency, and the
connections the server accepted per 1,000 runs. ``conc``: runs with 500 in flight and 20 ms per model call:
runs/s, p50/p99 latency per run, peak RSS. The server's own CPU is reported apart. The last line is JSON.
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
PACKAGE = 'bench._w2'
METRICS = {  # result key in the JSON line -> (mode, key in the system's output)
    'cpu_ms_per_run': ('seq', 'cpu_ms_per_run'),
    'seq_p50_ms': ('seq', 'p50_ms'),
    'sockets_per_1000_runs': ('seq', 'sockets_per_1000_runs'),
    'server_cpu_ms_per_run': ('seq', 'server_cpu_ms_per_run'),
    'runs_per_s': ('conc', 'runs_per_s'),
    'conc_cpu_ms_per_run': ('conc', 'cpu_ms_per_run'),
    'p50_ms': ('conc', 'p50_ms'),
    'p99_ms': ('conc', 'p99_ms'),
    'peak_rss_mb': ('conc', 'peak_rss_mb'),
    'conc_sockets_per_1000_runs': ('conc', 'sockets_per_1000_runs'),
    'conc_server_cpu_ms_per_run': ('conc', 'server_cpu_ms_per_run'),
}
PEERS = ('pai_raw', 'langgraph_lc', 'oai_agents')


@dataclass(frozen=True)
class System:
    id: str
    module: str
    label: str
    provider: str = 'openai'


SYSTEMS = (
    System('pai_raw', 'pai_raw', 'Pydantic-AI raw'),
    System('podium', 'podium_default', 'podium (lean path where eligible)'),
    System('podium_agent_path', 'podium_agent_path', 'podium, `lean=False`'),
    System('podium_traced', 'podium_traced', 'podium + tracing (Logfire, exporting nowhere)'),
    System('langgraph_lc', 'langgraph_lc', 'LangGraph + `ChatOpenAI.with_structured_output`'),
    System('oai_agents', 'oai_agents', 'OpenAI Agents SDK, `OpenAIChatCompletionsModel`'),
    System('pai_raw_anthropic', 'pai_raw', 'Pydantic-AI raw, `AnthropicModel`', 'anthropic'),
    System('podium_anthropic', 'podium_default', 'podium, `AnthropicModel`', 'anthropic'),
)


class SystemFailedError(Exception):
    pass


class Server:
    """The W2 server in a process of its own, for one measurement."""

    def __enter__(self) -> str:
        cmd = [sys.executable, '-m', f'{PACKAGE}.server']
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith('port '):
            self.proc.kill()
            raise SystemFailedError(f'the W2 server did not start: {line!r}')
        return f'http://127.0.0.1:{int(line.split()[1])}'

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def measure(system: System, mode: str, args: list[str], timeout: float) -> dict[str, Any]:
    with Server() as base_url:
        cmd = [sys.executable, '-m', f'{PACKAGE}.{system.module}', '--mode', mode, '--base-url', base_url]
        cmd += ['--provider', system.provider, *args]
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
    parser.add_argument('--quick', action='store_true', help='a rough pass in a few minutes: 1 rep, fewer runs')
    parser.add_argument('--reps', type=int, help='repetitions per system (default 3, or 1 with --quick)')
    parser.add_argument('--only', help='comma-separated system ids: ' + ', '.join(s.id for s in SYSTEMS))
    parser.add_argument('--seq-n', type=int, help='timed sequential runs (default 300, or 100 with --quick)')
    parser.add_argument('--warmup', type=int, help='untimed sequential runs first (default 30, or 20 with --quick)')
    parser.add_argument('--conc-n', type=int, help='runs in conc mode (default 1500, or 500 with --quick)')
    parser.add_argument('--in-flight', type=int, default=500, help='runs in flight at once in conc mode')
    parser.add_argument('--delay-ms', type=float, default=20.0, help='server delay per model call in conc mode')
    parser.add_argument('--timeout', type=float, default=900, help='seconds allowed per subprocess')
    parser.add_argument(
        '--modes', default='seq,conc', help='modes to run: `seq` alone gives the CPU, socket and ratio figures'
    )
    args = parser.parse_args()
    quick = args.quick
    args.reps = args.reps or (1 if quick else 3)
    args.seq_n = args.seq_n or (100 if quick else 300)
    args.warmup = args.warmup if args.warmup is not None else (20 if quick else 30)
    args.conc_n = args.conc_n or (500 if quick else 1500)
    if unknown_modes := set(args.modes.split(',')) - {'seq', 'conc'}:
        parser.error(f'unknown mode(s): {", ".join(sorted(unknown_modes))}')
    if args.only and (unknown := set(args.only.split(',')) - {s.id for s in SYSTEMS}):
        parser.error(f'unknown system id(s): {", ".join(sorted(unknown))}')
    return args


def run_all(systems: list[System], args: argparse.Namespace) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
    """Every system, seq then conc, ``args.reps`` times; returns the raw outputs per system and the failed ids."""
    mode_args = {
        'seq': ['--n', str(args.seq_n), '--warmup', str(args.warmup)],
        'conc': ['--n', str(args.conc_n), '--in-flight', str(args.in_flight), '--delay-ms', str(args.delay_ms)],
    }
    mode_args = {mode: extra for mode, extra in mode_args.items() if mode in args.modes.split(',')}
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
                seq = mode == 'seq'
                shown = f'{out["cpu_ms_per_run"]:.2f} CPU ms/run' if seq else f'{out["runs_per_s"]:.1f} runs/s'
                took = time.perf_counter() - start
                print(f'rep {rep + 1}/{args.reps} {system.id:<18} {mode:<4} {shown} ({took:.1f} s)', file=sys.stderr)
    return outputs, failed


def summarize(outputs: list[dict[str, Any]]) -> dict[str, float]:
    """Median over repetitions of each metric of the modes that ran."""
    ran = {out['mode'] for out in outputs}
    return {
        name: statistics.median(out[key] for out in outputs if out['mode'] == mode)
        for name, (mode, key) in METRICS.items()
        if mode in ran
    }


def shown(r: dict[str, float], key: str, spec: str) -> str:
    """A metric as the table shows it, or `-` when its mode did not run."""
    return format(r[key], spec) if key in r else '-'


def table(systems: list[System], results: dict[str, dict[str, float]]) -> str:
    lines = [
        '| system | client CPU ms/run | vs raw | runs/s | p50 ms | p99 ms | peak RSS MB | sockets/1k runs (seq / conc) '
        '| server CPU ms/run |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for system in systems:
        if (r := results.get(system.id)) is None:
            continue
        base = results.get('pai_raw_anthropic' if system.provider == 'anthropic' else 'pai_raw')
        ratio = f'{r["cpu_ms_per_run"] / base["cpu_ms_per_run"]:.3f}' if base else '-'
        lines.append(
            f'| {system.label} | {r["cpu_ms_per_run"]:.1f} | {ratio} | {shown(r, "runs_per_s", ",.1f")} '
            f'| {shown(r, "p50_ms", ",.0f")} | {shown(r, "p99_ms", ",.0f")} | {shown(r, "peak_rss_mb", ",.0f")} '
            f'| {r["sockets_per_1000_runs"]:.1f} / {shown(r, "conc_sockets_per_1000_runs", ".0f")} '
            f'| {r["server_cpu_ms_per_run"]:.2f} |'
        )
    return '\n'.join(lines)


def ratios(results: dict[str, dict[str, float]]) -> dict[str, float | None]:
    def cpu(sid: str) -> float | None:
        return results[sid]['cpu_ms_per_run'] if sid in results else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    peers = [c for c in map(cpu, PEERS) if c is not None]
    return {
        'podium_cpu_vs_raw': ratio(cpu('podium'), cpu('pai_raw')),
        'podium_cpu_vs_best_peer': ratio(cpu('podium'), min(peers) if peers else None),
        'podium_sockets_per_1000_runs': results['podium']['sockets_per_1000_runs'] if 'podium' in results else None,
        'podium_traced_cpu_vs_raw': ratio(cpu('podium_traced'), cpu('pai_raw')),
        'podium_agent_path_cpu_vs_raw': ratio(cpu('podium_agent_path'), cpu('pai_raw')),
        'podium_anthropic_cpu_vs_raw': ratio(cpu('podium_anthropic'), cpu('pai_raw_anthropic')),
    }


def versions(outputs: dict[str, list[dict[str, Any]]]) -> str:
    found: dict[str, str] = {}
    for runs in outputs.values():
        for out in runs:
            found.update(out.get('versions', {}))
    return 'Versions: ' + ', '.join(f'{name} {found[name]}' for name in sorted(found))


def main() -> None:
    args = parse_args()
    systems = [s for s in SYSTEMS if not args.only or s.id in args.only.split(',')]
    start = time.perf_counter()
    outputs, failed = run_all(systems, args)
    results = {s.id: summarize(outputs[s.id]) for s in systems if s.id not in failed}
    summary: dict[str, Any] = {sid: {k: round(v, 3) for k, v in r.items()} for sid, r in results.items()}
    summary.update(ratios(results))
    conc = (
        f'conc = {args.conc_n} runs, {args.in_flight} in flight, {args.delay_ms:g} ms per model call'
        if 'conc' in args.modes.split(',')
        else 'conc not run'
    )
    print(
        f'W2, {args.reps} rep(s): seq = {args.seq_n} sequential runs after {args.warmup} warm-up, no server delay; '
        f'{conc}. Wall {time.perf_counter() - start:.0f} s.\n'
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
