"""An approval step pauses an ordinary run; resume continues it without calling any finished step's model again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import podium
from podium import (
    AlreadyResumed,
    Approve,
    ConfigurationError,
    Edit,
    InMemoryRunStore,
    InvalidDecision,
    OutputNotAvailable,
    Reject,
    RunNotFound,
    WrongWorkflow,
)

sys.path.insert(0, str(Path(__file__).parent))
from _desk import CALLS, Refund, desk, refunds

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    CALLS.clear()


async def test_a_run_pauses_at_the_approval_with_a_token_and_no_output() -> None:
    store = InMemoryRunStore()
    result = await desk.run('please refund 80 dollars', store=store)

    assert result.status == 'paused'
    assert result.paused is not None
    assert (result.paused.workflow, result.paused.step) == ('desk', 'refund_ok')
    assert result.paused.position == 'desk/refunds/refund_ok'
    assert result.paused.summary == 'refund of 80'
    assert [r.name for r in result.steps] == ['draft']
    with pytest.raises(OutputNotAvailable, match=r"paused at approval step 'refund_ok'.*workflow\.resume\("):
        _ = result.output
    assert [p.token for p in store.waiting()] == [result.paused.token]
    assert dict(CALLS) == {'router': 1, 'drafter': 1}


@pytest.mark.parametrize(
    ('decision', 'output'),
    [
        (Approve(reviewer='ana'), 'paid 80'),
        (Reject(reason='over the limit'), 'declined: over the limit'),
        (Edit(value=Refund(amount=50, reason='partial')), 'paid 50 (edited)'),
    ],
)
async def test_resume_replays_the_finished_steps_and_takes_the_decision(decision: podium.Decision, output: str) -> None:
    store = InMemoryRunStore()
    paused = await desk.run('please refund 80 dollars', store=store)
    assert paused.paused is not None

    result = await desk.resume(paused.paused.token, decision, store=store)

    assert result.status == 'ok'
    assert result.output == output
    assert dict(CALLS) == {'router': 1, 'drafter': 1}  # the resume called neither model again
    assert [r.name for r in result.steps] == [
        'desk',
        'refunds',
        'draft',
        'refund_ok',
        'refund_outcome',
        result.steps[-1].name,
    ]
    assert result.record('draft').output == Refund(amount=80, reason='please refund 80 dollars')
    assert result.record('desk').route == 'refund'
    assert result.usage.requests == 2  # the replayed requests still count, as the run made them
    assert store.waiting() == []


async def test_a_token_resumes_once() -> None:
    store = InMemoryRunStore()
    paused = await desk.run('please refund 80 dollars', store=store)
    assert paused.paused is not None
    await desk.resume(paused.paused.token, Approve(), store=store)

    with pytest.raises(AlreadyResumed, match='was resumed already'):
        await desk.resume(paused.paused.token, Approve(), store=store)
    assert dict(CALLS) == {'router': 1, 'drafter': 1}


async def test_a_token_of_another_workflow_is_refused() -> None:
    store = InMemoryRunStore()
    paused = await desk.run('please refund 80 dollars', store=store)
    assert paused.paused is not None

    with pytest.raises(WrongWorkflow, match="belongs to a run of 'desk', not of 'refunds'"):
        await refunds.resume(paused.paused.token, Approve(), store=store)
    with pytest.raises(RunNotFound, match="no paused run 'nope'"):
        await desk.resume('nope', Approve(), store=store)
    resumed = await desk.resume(paused.paused.token, Approve(), store=store)  # still resumable
    assert resumed.output == 'paid 80'


@pytest.mark.parametrize(
    ('decision', 'message'),
    [
        (Edit(value='fifty dollars'), "approval 'refund_ok' reviews a Refund, but the edit is a str"),
        ('approve', 'a decision is podium.Approve'),
        (None, 'no decision was recorded'),
    ],
)
async def test_a_decision_that_does_not_fit_is_refused_before_anything_runs(decision: object, message: str) -> None:
    store = InMemoryRunStore()
    paused = await desk.run('please refund 80 dollars', store=store)
    assert paused.paused is not None
    CALLS.clear()

    with pytest.raises(InvalidDecision, match=message):
        await desk.resume(paused.paused.token, decision, store=store)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    assert dict(CALLS) == {}
    assert [p.token for p in store.waiting()] == [paused.paused.token]  # not claimed: a right decision still resumes


async def test_a_second_approval_pauses_again_with_a_new_token() -> None:
    first = podium.approval(name='first', input_type=str)
    second = podium.approval(name='second', input_type=str)

    @podium.step
    def value(review: podium.Review[str]) -> str:
        return review.value

    counted = podium.step(lambda text: CALLS.update(['counted']) or text.upper(), name='counted')
    flow = (counted >> first >> value >> second >> value).named('two')
    store = InMemoryRunStore()

    one = await flow.run('hi', store=store)
    assert one.paused is not None
    two = await flow.resume(one.paused.token, Edit(value='HEY'), store=store)
    assert two.paused is not None
    assert two.paused.step == 'second'
    assert two.paused.token != one.paused.token
    done = await flow.resume(two.paused.token, Approve(), store=store)

    assert done.output == 'HEY'
    assert CALLS['counted'] == 1


async def test_a_decision_after_the_timeout_takes_the_timed_out_path() -> None:
    store = InMemoryRunStore()
    paused = await desk.run('please refund 80 dollars', store=store)
    assert paused.paused is not None
    snapshot = store.load(paused.paused.token)
    snapshot.paused = podium.PausedRun(**{**_fields(snapshot.paused), 'expires_at': snapshot.paused.since})
    store.save(snapshot)

    result = await desk.resume(paused.paused.token, Approve(), store=store)

    assert result.output.startswith('declined: no decision within')
    assert result.record('refund_ok').route == 'timed_out'


async def test_an_approval_inside_a_parallel_step_is_refused_before_the_run() -> None:
    check = podium.step(lambda text: text, name='check')
    both = podium.parallel(check, podium.approval(name='sign_off', input_type=str), name='both')

    with pytest.raises(ConfigurationError, match="approval step 'sign_off' sits inside 'both'"):
        await both.run('x')


async def test_a_workflow_without_approvals_runs_without_a_journal() -> None:
    from podium._core._pause import journal_for

    plain = podium.step(lambda text: text, name='plain')
    assert journal_for(plain, None, ()) == ()
    assert (await plain.run('x')).output == 'x'


def _fields(paused: podium.PausedRun) -> dict[str, object]:
    return {name: getattr(paused, name) for name in paused.__slots__}  # type: ignore[attr-defined]


async def test_a_token_never_starts_with_a_dash_so_the_command_line_takes_it_as_a_run_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from podium._core import _pause

    drawn = '-lx-0Xdj65GshcMpKWM69g'  # what `secrets.token_urlsafe(16)` may draw: 1 token in 64
    monkeypatch.setattr(_pause.secrets, 'token_urlsafe', lambda nbytes: drawn)
    result = await desk.run('please refund 80 dollars', store=InMemoryRunStore())
    assert result.paused is not None
    assert result.paused.token == '_lx-0Xdj65GshcMpKWM69g'
