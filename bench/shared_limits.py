"""Limits shared by worker processes: a rate limit and a circuit breaker on one store, counted at a real server.

    python bench/shared_limits.py                     # 60 s, SQLite store
    python bench/shared_limits.py --store postgres    # Postgres from $PODIUM_POSTGRES_URL, else scripts/postgres.sh
    python bench/shared_limits.py --seconds 10        # shorter

Rate limit: `--workers` processes, each sending requests one after another through a `RetryingModel` with one
shared `RateLimit(requests_per_minute=600)` to a `podium.testing.FaultServer` for `--seconds`. The server counts
what arrives: `total_requests`, and the most that arrived in any 60 s (`max_requests_in_any_60s_window`).

Breaker: the same workers call through one shared `CircuitBreaker(failure_threshold=5)`; after a second the server
starts answering 500, some worker's failure opens the breaker, and `calls_after_open_ms` is how long requests kept
arriving at the server after it opened (the store's opening time and the server's arrival times are both read from
the machine's monotonic clock).
The last line is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import anyio

from podium.fallbacks import LimitStore, PostgresLimitStore, SQLiteLimitStore
from podium.testing import Fault, FaultServer

ROOT = Path(__file__).resolve().parents[1]
REQUESTS_PER_MINUTE = 600
BREAKER_SECONDS = 4.0
FAILING_AFTER = 1.0


def _model(base_url: str):  # type: ignore[no-untyped-def]
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    client = AsyncOpenAI(base_url=base_url, api_key='bench', max_retries=0)
    return OpenAIChatModel('gpt-4o', provider=OpenAIProvider(openai_client=client))


def rate_worker(store: LimitStore, key: str, base_url: str, seconds: float, start: Barrier) -> int:
    """Send requests one after another until `seconds` have passed or no capacity will come before the end."""
    from pydantic_ai.messages import ModelRequest, UserPromptPart
    from pydantic_ai.models import ModelRequestParameters

    from podium.fallbacks import RateLimit, RateLimitExhausted, RetryingModel

    async def main() -> int:
        limit = RateLimit(requests_per_minute=REQUESTS_PER_MINUTE, key=key, store=store)
        messages = [ModelRequest(parts=[UserPromptPart('hi')])]
        inner = _model(base_url)  # imports the SDK before the clock starts
        sent = 0
        start.wait()
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            model = RetryingModel(inner, attempts=1, deadline=left, rate_limit=limit)
            try:
                await model.request(messages, None, ModelRequestParameters())
            except RateLimitExhausted:
                break  # the window opens again only after the run ends
            sent += 1
        return sent

    return anyio.run(main)


def breaker_worker(store: LimitStore, name: str, base_url: str, seconds: float, start: Barrier) -> int:
    """Call through the shared breaker until `seconds` have passed, pausing 10 ms whenever it is open."""
    from pydantic_ai.exceptions import ModelAPIError
    from pydantic_ai.messages import ModelRequest, UserPromptPart
    from pydantic_ai.models import ModelRequestParameters

    from podium.fallbacks import CircuitBreaker, ModelCircuitOpenError, RetryingModel

    async def main() -> int:
        breaker = CircuitBreaker(name=name, failure_threshold=5, reset_after=600, store=store)
        model = RetryingModel(_model(base_url), attempts=1, breaker=breaker)
        messages = [ModelRequest(parts=[UserPromptPart('hi')])]
        refused = 0
        start.wait()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                await model.request(messages, None, ModelRequestParameters())
            except ModelCircuitOpenError:
                refused += 1
                await anyio.sleep(0.01)
            except ModelAPIError:
                pass
        return refused

    return anyio.run(main)


def busiest_minute(arrivals: list[float]) -> int:
    """The most arrivals within any 60 s."""
    arrivals = sorted(arrivals)
    busiest, first = 0, 0
    for last, at in enumerate(arrivals):
        while at - arrivals[first] >= 60:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


def postgres_url() -> str:
    if url := os.environ.get('PODIUM_POSTGRES_URL'):
        return url
    done = subprocess.run(['bash', str(ROOT / 'scripts' / 'postgres.sh')], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def run_workers(
    target: Callable[..., int], args: tuple[object, ...], workers: int, then: Callable[[], None] | None = None
) -> None:
    """Start `workers` processes running `target(*args, barrier)`, release them together, run `then`, wait."""
    spawn = multiprocessing.get_context('spawn')
    start = spawn.Barrier(workers + 1)
    processes = [spawn.Process(target=target, args=(*args, start)) for _ in range(workers)]
    for process in processes:
        process.start()
    start.wait(timeout=300)  # every worker has imported everything and is about to send
    if then is not None:
        then()
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f'a worker failed with exit code {process.exitcode}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument('--seconds', type=float, default=60.0, help='how long the rate-limit run lasts')
    parser.add_argument('--store', choices=('sqlite', 'postgres'), default='sqlite')
    parser.add_argument('--workers', type=int, default=4)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        if args.store == 'sqlite':
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            store: LimitStore = SQLiteLimitStore(Path(folder) / 'limits.db')
        else:
            store = PostgresLimitStore(postgres_url())
        server = stack.enter_context(FaultServer())

        run_workers(rate_worker, (store, f'bench-{uuid.uuid4().hex}', server.base_url, args.seconds), args.workers)
        arrivals = [request.received_at for request in server.requests]
        total, busiest = len(arrivals), busiest_minute(arrivals)
        span = max(arrivals) - min(arrivals) if arrivals else 0.0

        server.reset()
        name = f'bench-{uuid.uuid4().hex}'

        def fail_later() -> None:
            time.sleep(FAILING_AFTER)
            server.default = Fault.server_error()

        run_workers(breaker_worker, (store, name, server.base_url, BREAKER_SECONDS), args.workers, fail_later)
        record = store.read(f'breaker:{name}')
        opened_at = json.loads(record)['opened_at'] if record else None
        late = [r.received_at for r in server.requests if opened_at is not None and r.received_at > opened_at]
        calls_after_open_ms = (max(late) - opened_at) * 1000 if late and opened_at is not None else 0.0
        breaker_requests = server.hits

    print(
        f'rate limit ({args.store}, {args.workers} workers, {args.seconds:g} s, {REQUESTS_PER_MINUTE}/min): '
        f'{total} requests at the server over {span:.1f} s, at most {busiest} in any 60 s'
    )
    print(
        f'breaker: opened {"" if opened_at is not None else "never "}after {FAILING_AFTER:g} s of success; '
        f'{len(late)} requests arrived after it opened, the last {calls_after_open_ms:.0f} ms after; '
        f'{breaker_requests} requests in all'
    )
    print(
        json.dumps(
            {
                'store': args.store,
                'workers': args.workers,
                'seconds': args.seconds,
                'requests_per_minute': REQUESTS_PER_MINUTE,
                'total_requests': total,
                'max_requests_in_any_60s_window': busiest,
                'breaker_opened': opened_at is not None,
                'requests_after_open': len(late),
                'calls_after_open_ms': round(calls_after_open_ms, 1),
            }
        )
    )


if __name__ == '__main__':
    main()
