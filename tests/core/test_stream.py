"""`Step.stream` and `run(on_event=...)`: the events of a run, in order, while it happens."""

from __future__ import annotations

import anyio
import pytest

import podium
from podium import RunCancelled, StepFailed, step
from podium.events import RunEvent, RunFailed, RunFinished, StepFinished, StepStarted, run_event_adapter

pytestmark = pytest.mark.anyio


@step
def shout(text: str) -> str:
    return text.upper()


@step
async def wait_a_bit(text: str) -> str:
    await anyio.sleep(0.05)
    return text + '!'


@step
def explode(text: str) -> str:
    raise ValueError(f'cannot handle {text}')


def _shape(events: list[RunEvent]) -> list[tuple[str, tuple[str, ...]]]:
    return [(e.type, e.path) for e in events]


async def test_a_stream_yields_every_step_with_its_path_then_the_result():
    workflow = (shout >> podium.parallel(wait_a_bit, wait_a_bit)).named('flow')
    async with workflow.stream('hi') as events:
        seen = [event async for event in events]
    assert seen[0].type == 'run_started'
    assert isinstance(seen[-1], RunFinished)
    assert seen[-1].result.output == ('HI!', 'HI!')
    assert events.result.output == ('HI!', 'HI!')
    started = [e.path for e in seen if isinstance(e, StepStarted)]
    assert started[:3] == [('flow',), ('flow', 'shout'), ('flow', 'parallel(wait_a_bit, wait_a_bit)')]
    assert started.count(('flow', 'parallel(wait_a_bit, wait_a_bit)', 'wait_a_bit')) == 2
    finished = [e for e in seen if isinstance(e, StepFinished)]
    assert [e.record.name for e in finished] == [r.name for r in _finish_order(events.result.steps, finished)]
    assert finished[-1].path == ('flow',)


def _finish_order(records: tuple[podium.StepRecord, ...], finished: list[StepFinished]) -> list[podium.StepRecord]:
    """The records in the order their steps finished, as the events say: every record has its event."""
    assert sorted(r.name for r in records) == sorted(e.record.name for e in finished)
    return [e.record for e in finished]


async def test_every_event_round_trips_through_json():
    async with (shout >> wait_a_bit).stream('hi') as events:
        seen = [event async for event in events]
    for event in seen:
        assert run_event_adapter.validate_json(run_event_adapter.dump_json(event)).type == event.type


async def test_a_failing_run_ends_with_run_failed_and_result_raises():
    async with (shout >> explode).stream('hi') as events:
        seen = [event async for event in events]
    last = seen[-1]
    assert isinstance(last, RunFailed)
    assert last.error == 'StepFailed'
    assert last.step == 'explode'
    assert [r.status for r in last.records] == ['ok', 'failed']
    assert not any(isinstance(e, RunFinished) for e in seen)
    with pytest.raises(StepFailed):
        _ = events.result


async def test_leaving_the_stream_early_cancels_the_run_and_records_say_cancelled():
    reached: list[str] = []

    @step
    async def never_done(text: str) -> str:
        reached.append(text)
        await anyio.sleep(30)
        return text

    with anyio.fail_after(5):
        async with (shout >> never_done).stream('hi') as events:
            async for event in events:
                if isinstance(event, StepStarted) and event.step == 'never_done':
                    break
    assert reached == ['HI']
    with pytest.raises(RunCancelled) as caught:
        _ = events.result
    assert [(r.name, r.status) for r in caught.value.records] == [('shout', 'ok'), ('never_done', 'cancelled')]


async def test_reading_the_result_before_the_events_end_says_so():
    async with (shout >> wait_a_bit).stream('hi') as events:
        with pytest.raises(podium.OutputNotAvailable, match='still streaming'):
            _ = events.result
        _ = [event async for event in events]
    assert events.result.output == 'HI!'


async def test_a_slow_consumer_holds_the_run_back_instead_of_buffering_every_event():
    produced: list[int] = []

    @step
    def count(n: int) -> int:
        produced.append(n)
        return n + 1

    workflow = podium.loop(count, until=lambda n: n >= 200, max_iterations=500)
    async with workflow.stream(0, buffer=8) as events:
        iterator = aiter(events)
        for _ in range(3):
            await anext(iterator)
        await anyio.sleep(0.1)
        ahead = len(produced)
        rest = [event async for event in iterator]
    assert ahead <= 8
    assert rest[-1].type == 'run_finished'
    assert len(produced) == 200


async def test_parallel_branches_held_back_by_a_full_buffer_all_go_on_once_it_drains():
    workflow = (shout >> podium.parallel(wait_a_bit, wait_a_bit, wait_a_bit)).named('flow')
    with anyio.fail_after(10):  # a branch left waiting for room would hang the run
        async with workflow.stream('hi', buffer=1) as events:
            iterator = aiter(events)
            got = [await anext(iterator) for _ in range(4)]
            await anyio.sleep(0.05)  # every branch finds the buffer full
            got += [event async for event in iterator]
    assert events.result.output == ('HI!', 'HI!', 'HI!')
    assert [e.path[-1] for e in got if isinstance(e, StepFinished)].count('wait_a_bit') == 3


@pytest.mark.parametrize('asynchronous', [False, True])
async def test_on_event_gets_the_same_events_as_the_stream(asynchronous: bool):
    got: list[RunEvent] = []

    async def collect_async(event: RunEvent) -> None:
        got.append(event)

    callback = collect_async if asynchronous else got.append
    result = await (shout >> wait_a_bit).run('hi', on_event=callback)
    assert result.output == 'HI!'
    async with (shout >> wait_a_bit).stream('hi') as events:
        streamed = [event async for event in events]
    assert _shape(got) == _shape(streamed)


def test_on_event_works_from_run_sync():
    got: list[RunEvent] = []
    result = (shout >> wait_a_bit).run_sync('hi', on_event=got.append)
    assert result.output == 'HI!'
    assert got[-1].type == 'run_finished'


async def test_a_run_without_listeners_gives_steps_no_event_path():
    paths: list[tuple[str, ...]] = []

    class Probe(podium.RunHook):
        def step_started(self, scope: podium.StepScope) -> None:
            paths.append(scope.tree_path)

    await (shout >> wait_a_bit).run('hi', hooks=[Probe()])
    assert paths == [(), ()]


async def test_a_buffer_below_one_is_a_configuration_error():
    with pytest.raises(podium.ConfigurationError, match='buffer'):
        shout.stream('hi', buffer=0)


async def test_an_error_in_the_consumers_block_propagates_as_raised_and_cancels_the_run():
    @step
    async def slow(text: str) -> str:
        await anyio.sleep(30)
        return text

    stream = (shout >> slow).stream('hi')

    async def consume() -> None:
        async with stream as events:
            async for _event in events:
                raise KeyError('mine')

    with anyio.fail_after(5), pytest.raises(KeyError, match='mine'):
        await consume()
    with pytest.raises(RunCancelled):
        _ = stream.result


async def test_the_consumer_has_the_run_started_event_before_the_first_step_works():
    received: list[str] = []
    received_when_working: list[list[str]] = []

    @step
    async def busy(text: str) -> str:  # never awaits: without a yield from the run, the consumer waits for the end
        received_when_working.append(list(received))
        return text

    async with busy.stream('hi') as events:
        async for event in events:
            received.append(event.type)
    assert received_when_working == [['run_started', 'step_started']]
