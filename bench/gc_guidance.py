"""Server guidance, measured: what raising the garbage collector's threshold does under 2,000 concurrent runs.

Runs W1 in `conc` mode for raw Pydantic-AI and podium, each with Python's default generation-0 threshold (700)
and with a raised one, each in a fresh process, and prints runs/s and CPU ms per run. podium never sets this
itself: it is a process-wide choice for the server that embeds it.

    python bench/gc_guidance.py [--n 2000] [--threshold 50000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ('pai_raw', 'podium_default', 'podium_agent_path')


def measure(system: str, n: int, threshold: int | None) -> dict[str, float] | None:
    if not (ROOT / 'bench' / '_w1' / f'{system}.py').exists():
        print(f'skipping {system}: no module yet', file=sys.stderr)
        return None
    cmd = [sys.executable, '-m', f'bench._w1.{system}', '--mode', 'conc', '--n', str(n)]
    if threshold is not None:
        cmd += ['--gc-threshold', str(threshold)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, timeout=900).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--n', type=int, default=2000, help='concurrent runs')
    parser.add_argument('--threshold', type=int, default=50_000, help='raised generation-0 threshold')
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    print('| system | gc threshold | runs/s | CPU ms/run | peak RSS MB |')
    print('|---|---:|---:|---:|---:|')
    for system in SYSTEMS:
        for threshold in (None, args.threshold):
            result = measure(system, args.n, threshold)
            if result is None:
                break
            label = 'default (700)' if threshold is None else str(threshold)
            print(
                f'| {system} | {label} | {result["runs_per_s"]:,.0f} | {result["cpu_ms_per_run"]:.2f} | '
                f'{result["peak_rss_mb"]:.0f} |'
            )
            rows[f'{system}@{threshold or 700}'] = {
                'runs_per_s': round(result['runs_per_s'], 1),
                'cpu_ms_per_run': round(result['cpu_ms_per_run'], 3),
                'peak_rss_mb': round(result['peak_rss_mb'], 1),
            }
    print(json.dumps(rows))


if __name__ == '__main__':
    main()
