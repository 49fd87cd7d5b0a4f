"""What durability costs: milliseconds per checkpointed step on SQLite and Postgres, and queued-run throughput.

    python bench/durable.py                  # Postgres from $PODIUM_POSTGRES_URL, else scripts/postgres.sh
    python bench/durable.py --quick          # fewer runs

Per step: a chain of agent steps on an instant model, run plain and durable in a fresh process per store; the
cost is (durable - plain) / steps, per run, reported as median and p99. Throughput: runs of a 3-step chain whose
model takes 50 ms per request, queued on Postgres and served by 1, then 2, worker processes, each limited to
`--concurrency` runs at a time, so the limit binds and a second worker should nearly double the rate.
The last line is JSON: sqlite_ms_per_step, postgres_ms_per_step, runs_per_s_1_worker, runs_per_s_2_workers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
from dbos import DBOSClient
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import podium
from podium import Step
from podium.durable import durable

ROOT = Path(__file__).resolve().parents[1]
STEPS = 8
QUEUE_STEPS = 3
LATENCY_S = 0.05


class Note(BaseModel):
    text: str
    n: int


def chain(steps: int, latency: float) -> Step[Any, Any]:
    """`steps` agent steps in a row; each model answers after `latency` seconds."""

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if latency:
            await anyio.sleep(latency)
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {'text': 'ok', 'n': len(messages)})])

    agents = [
        podium.agent(Agent(FunctionModel(respond), output_type=Note, name=f'step{i}'), input_type=object)
        for i in range(steps)
    ]
    workflow: Step[Any, Any] = agents[0]
    for step in agents[1:]:
        workflow = workflow >> step
    return workflow


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ------------------------------------------------------------------ per-step cost (one process per store)
async def measure_steps(db: str, runs: int) -> dict[str, float]:
    workflow = chain(STEPS, 0)
    desk = durable(workflow, name='bench-steps', db=db)
    plain: list[float] = []
    durable_s: list[float] = []
    try:
        for i in range(runs + 3):
            start = time.perf_counter()
            await workflow.run('go')
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            await desk.run('go', run_id=f'steps-{uuid.uuid4().hex}')
            durable_s.append(time.perf_counter() - start)
            if i < 3:  # warm-up: imports, connections, first DBOS launch
                plain.pop()
                durable_s.pop()
    finally:
        desk.shutdown()
    base = statistics.median(plain)
    per_step = [(d - base) * 1000 / STEPS for d in durable_s]
    return {
        'plain_ms_per_step': base * 1000 / STEPS,
        'median_ms': statistics.median(per_step),
        'p99_ms': percentile(per_step, 0.99),
    }


def steps_in_subprocess(db: str, runs: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, '_steps', db, str(runs)], capture_output=True, text=True, check=False, timeout=600
    )
    if done.returncode != 0:
        raise SystemExit(f'per-step benchmark on {db} failed:\n{done.stderr}')
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ queued throughput (worker processes)
def worker_desk(db: str, concurrency: int, name: str) -> Any:
    return durable(chain(QUEUE_STEPS, LATENCY_S), name=name, db=db, concurrency=concurrency)


async def serve(db: str, worker_id: str, concurrency: int, name: str) -> None:
    await worker_desk(db, concurrency, name).serve(worker_id=worker_id, polling_interval=0.02)


def throughput(base_url: str, workers: int, runs: int, concurrency: int) -> float:
    db = f'{base_url.rsplit("/", 1)[0]}/podium_bench_{uuid.uuid4().hex[:8]}'
    name = f'bench-queue-{workers}'
    desk = worker_desk(db, concurrency, name)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, '_worker', db, f'w{i}', str(concurrency), name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, 'PODIUM_DBOS_LOG_LEVEL': 'ERROR'},
        )
        for i in range(workers)
    ]

    async def main() -> float:
        client = None
        try:
            # one warm-up run per worker, so that process start-up is not counted
            for i in range(workers * concurrency):
                await desk.enqueue('warm', run_id=f'warm-{i}')
            client = DBOSClient(system_database_url=db)
            await wait_done(client, workers * concurrency, timeout=120)
            start = time.perf_counter()
            for i in range(runs):
                await desk.enqueue('go', run_id=f'run-{i}')
            await wait_done(client, workers * concurrency + runs, timeout=600)
            return runs / (time.perf_counter() - start)
        finally:
            if client is not None:
                client.destroy()
            desk.shutdown()

    try:
        return anyio.run(main)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


async def wait_done(client: DBOSClient, count: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = await client.list_workflows_async(
            name='podium.run', status='SUCCESS', load_input=False, load_output=False
        )
        if len(done) >= count:
            return
        await anyio.sleep(0.02)
    raise SystemExit(f'timed out waiting for {count} runs')


# ------------------------------------------------------------------ driver
def postgres_url() -> str:
    url = os.environ.get('PODIUM_POSTGRES_URL')
    if url:
        return url
    done = subprocess.run(['bash', str(ROOT / 'scripts' / 'postgres.sh')], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == '_steps':
        print(json.dumps(anyio.run(measure_steps, sys.argv[2], int(sys.argv[3]))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == '_worker':
        anyio.run(serve, sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--quick', action='store_true', help='fewer runs: a smoke test of the benchmark')
    parser.add_argument('--concurrency', type=int, default=4, help='runs at a time per worker (default 4)')
    args = parser.parse_args()
    runs = 20 if args.quick else 100
    queued = 60 if args.quick else 200
    pg = postgres_url()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = steps_in_subprocess(f'sqlite:///{tmp}/bench.sqlite', runs)
    postgres = steps_in_subprocess(f'{pg.rsplit("/", 1)[0]}/podium_bench_{uuid.uuid4().hex[:8]}', runs)
    one = throughput(pg, 1, queued, args.concurrency)
    two = throughput(pg, 2, queued, args.concurrency)

    print(f'durability cost per checkpointed step ({STEPS}-step chain, {runs} runs, instant model)')
    print(f'  {"store":<10} {"median ms":>10} {"p99 ms":>10} {"plain ms/step":>14}')
    for name, numbers in (('sqlite', sqlite), ('postgres', postgres)):
        print(
            f'  {name:<10} {numbers["median_ms"]:>10.2f} {numbers["p99_ms"]:>10.2f} '
            f'{numbers["plain_ms_per_step"]:>14.3f}'
        )
    print(
        f'queued runs on postgres ({queued} runs of {QUEUE_STEPS} steps, {LATENCY_S * 1000:.0f} ms per model '
        f'request, {args.concurrency} runs at a time per worker)'
    )
    print(f'  1 worker   {one:7.1f} runs/s')
    print(f'  2 workers  {two:7.1f} runs/s   ({two / one:.2f}x)')
    print(
        json.dumps(
            {
                'sqlite_ms_per_step': round(sqlite['median_ms'], 3),
                'sqlite_p99_ms_per_step': round(sqlite['p99_ms'], 3),
                'postgres_ms_per_step': round(postgres['median_ms'], 3),
                'postgres_p99_ms_per_step': round(postgres['p99_ms'], 3),
                'runs_per_s_1_worker': round(one, 2),
                'runs_per_s_2_workers': round(two, 2),
            }
        )
    )


if __name__ == '__main__':
    main()
