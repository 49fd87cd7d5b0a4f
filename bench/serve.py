"""`podium serve` under load: requests per second and latency of `POST /run` on the support desk.

    python bench/serve.py [--concurrency 64] [--seconds 10] [--warmup 3] [--message "..."]

Starts `podium serve examples/support_desk.py:workflow` (demo models, no network; uvicorn picks uvloop and
httptools when the serve extra installed them) in a process of its own, and drives it from another process with
`--concurrency` aiohttp clients on keep-alive connections, each sending its next request when the last one is
answered. After `--warmup` seconds it counts for `--seconds`: every response must be a 200 with the run's output,
anything else is an error. The server's CPU time is read from /proc, to say what one request costs it.

The last line of stdout is JSON: `serve_rps`, `errors`, `p50_ms`, `p99_ms`, `requests`, `server_cpu_ms_per_request`,
`concurrency`, `seconds` and the load average before and after (`load_before`, `load_after`), since the machine may
be shared with other work.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
DESK = ROOT / 'examples' / 'support_desk.py'


def start_server(workers: int) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [str(ROOT / 'src'), os.environ.get('PYTHONPATH')]))}
    command = [sys.executable, '-m', 'podium.cli', 'serve', f'{DESK}:workflow', '--port', '0', '--no-access-log']
    command += ['--workers', str(workers)]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    assert server.stderr is not None
    line = server.stderr.readline()
    found = re.search(r'http://127\.0\.0\.1:\d+', line)
    if found is None:
        server.kill()
        raise SystemExit(f'podium serve did not start: {line!r}')
    return server, found.group()


def wait_until_ready(url: str, timeout: float = 120.0) -> None:
    """Workers accept once each has imported the workflow, some seconds after the command says where it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f'{url}/openapi.json', timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f'podium serve did not answer at {url} within {timeout} s')


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its children (the workers), from /proc."""
    fields = Path(f'/proc/{pid}/stat').read_text().rpartition(')')[2].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    children = Path(f'/proc/{pid}/task/{pid}/children').read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


def load(url: str, body: bytes, concurrency: int, warmup: float, seconds: float, queue: Any) -> None:
    """The load generator, in a process of its own: `concurrency` clients, each one request at a time."""
    import asyncio

    import aiohttp

    async def main() -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0
        counting = False
        stop = False
        headers = {'content-type': 'application/json'}

        async def client(session: aiohttp.ClientSession) -> None:
            nonlocal errors
            while not stop:
                start = time.perf_counter()
                try:
                    async with session.post(f'{url}/run', data=body, headers=headers) as response:
                        payload = await response.read()
                        ok = response.status == 200 and b'"output"' in payload
                except aiohttp.ClientError:
                    ok = False
                if counting:
                    latencies.append(time.perf_counter() - start)
                    errors += not ok

        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            tasks = [asyncio.create_task(client(session)) for _ in range(concurrency)]
            await asyncio.sleep(warmup)
            counting = True
            began = time.perf_counter()
            queue.put(('counting', None))
            await asyncio.sleep(seconds)
            counting = False
            elapsed = time.perf_counter() - began
            stop = True
            await asyncio.wait(tasks)
        return {'latencies': latencies, 'errors': errors, 'elapsed': elapsed}

    queue.put(('done', asyncio.run(main())))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--concurrency', type=int, default=64)
    parser.add_argument('--seconds', type=float, default=10.0)
    parser.add_argument('--warmup', type=float, default=3.0)
    parser.add_argument('--workers', type=int, default=1, help='podium serve --workers')
    parser.add_argument('--message', default='my invoice shows a double charge of $30')
    args = parser.parse_args()

    load_before = os.getloadavg()
    server, url = start_server(args.workers)
    try:
        wait_until_ready(url)
        queue: Any = multiprocessing.get_context('spawn').Queue()
        body = json.dumps(args.message).encode()
        generator = multiprocessing.get_context('spawn').Process(
            target=load, args=(url, body, args.concurrency, args.warmup, args.seconds, queue)
        )
        generator.start()
        kind, _ = queue.get(timeout=args.warmup + 60)
        assert kind == 'counting'
        cpu_start = cpu_seconds(server.pid)
        kind, outcome = queue.get(timeout=args.seconds + 60)
        cpu_used = cpu_seconds(server.pid) - cpu_start
        generator.join(30)
    finally:
        server.terminate()
        server.wait(10)
        if server.stderr is not None:
            server.stderr.close()
    latencies: list[float] = outcome['latencies']
    requests = len(latencies)
    result = {
        'serve_rps': round(requests / outcome['elapsed'], 1),
        'errors': outcome['errors'],
        'p50_ms': round(percentile(latencies, 0.50) * 1000, 2),
        'p99_ms': round(percentile(latencies, 0.99) * 1000, 2),
        'mean_ms': round(statistics.fmean(latencies) * 1000, 2),
        'requests': requests,
        'server_cpu_ms_per_request': round(cpu_used / max(requests, 1) * 1000, 3),
        'concurrency': args.concurrency,
        'workers': args.workers,
        'seconds': args.seconds,
        'cores': os.cpu_count(),
        'load_before': [round(x, 2) for x in load_before],
        'load_after': [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f'{requests} requests in {outcome["elapsed"]:.1f} s from {args.concurrency} clients: '
        f'{result["serve_rps"]} req/s, p50 {result["p50_ms"]} ms, p99 {result["p99_ms"]} ms, '
        f'{result["errors"]} errors; server CPU {result["server_cpu_ms_per_request"]} ms/request'
    )
    print(json.dumps(result))


if __name__ == '__main__':
    main()
