from __future__ import annotations

import anyio
import pytest

import podium
from podium import ConfigurationError, StepFailed, map_each, parallel

pytestmark = pytest.mark.anyio


def sleeper(name: str, seconds: float, log: list[str]) -> podium.Step[int, str]:
    async def run(n: int) -> str:
        log.append(f'start {name}')
        await anyio.sleep(seconds)
        log.append(f'end {name}')
        return f'{name}{n}'

    return podium.step(run, name=name)


async def test_parallel_runs_concurrently_and_returns_a_typed_tuple_in_order():
    log: list[str] = []
    fan = parallel(sleeper('a', 0.05, log), sleeper('b', 0.01, log), podium.step(lambda n: n * 2, name='double'))

    with anyio.fail_after(1):
        result = await fan.run(3)

    assert result.output == ('a3', 'b3', 6)
    assert log.index('end b') < log.index('end a')  # b finished first, but the tuple keeps declaration order


async def test_the_first_failure_cancels_the_others_and_fails_the_step():
    log: list[str] = []

    @podium.step
    async def boom(n: int) -> str:
        await anyio.sleep(0.01)
        raise ValueError('bad')

    fan = parallel(sleeper('slow', 5, log), boom)

    with anyio.fail_after(2):
        with pytest.raises(StepFailed, match="step 'boom' failed: ValueError: bad") as caught:
            await fan.run(1)

    assert 'end slow' not in log
    statuses = {r.name: r.status for r in caught.value.records}
    assert statuses == {'parallel(slow, boom)': 'failed', 'slow': 'failed', 'boom': 'failed'}


async def test_map_each_keeps_input_order_and_bounds_concurrency():
    running = 0
    peak = 0

    @podium.step
    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.01 * (5 - n % 5))
        running -= 1
        return n * n

    result = await map_each(work, max_concurrency=3).run(list(range(10)))

    assert result.output == [n * n for n in range(10)]
    assert peak == 3
    assert result.steps[0].detail == {'items': 10}


def test_fan_out_misuse_is_a_configuration_error():
    step = podium.step(lambda n: n, name='id')
    with pytest.raises(ConfigurationError, match='max_concurrency must be at least 1'):
        map_each(step, max_concurrency=0)
    with pytest.raises(ConfigurationError, match='parallel needs at least two steps'):
        parallel(step)  # type: ignore[call-overload]


async def test_parallel_takes_the_input_its_branches_share_and_checks_it_before_any_branch_runs():
    log: list[str] = []
    fan = parallel(sleeper('a', 0, log), sleeper('b', 0, log))
    assert fan.input_class is int
    with pytest.raises(podium.StepInputError, match=r'takes int, got str'):
        await fan.run('3')  # type: ignore[arg-type]  # what an untyped caller (an HTTP body, say) may send
    assert log == []
    assert parallel(sleeper('a', 0, log), podium.step(lambda text: text, name='any')).input_class is None
