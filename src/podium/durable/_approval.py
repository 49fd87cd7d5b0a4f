"""Approvals in durable runs: the approval step (`podium.approval`) waits on DBOS, across restarts.

The step itself lives in the core and works in any run; in a durable run, `DurableSteps` makes `DBOS_GATE` its
gate: the wait is a DBOS `recv` with a durable timeout, and an event says what the run waits for, so `podium runs`
and `approve()`/`reject()`/`decide()` from any process can find it.
"""

from __future__ import annotations

import time
from typing import Any

from dbos import DBOS

from .._core._approval import Approval, approval
from .._core._decisions import ApprovalGate, Approve, Decision, Edit, Outcome, Reject, Review, Waiting
from .._core._errors import ConfigurationError
from .._core._flow import StepScope
from ._replay import active_run, current_position

__all__ = (
    'DBOS_GATE',
    'WAITING_EVENT',
    'Approval',
    'Outcome',
    'Review',
    'approval',
    'message_for',
    'topic_for',
)

WAITING_EVENT = 'podium.waiting'
"""The DBOS event a paused run sets to say which approval it waits at (and clears when the wait ends)."""


def topic_for(step_id: str) -> str:
    """The message topic of one approval wait: a decision reaches the step it was made for, never a later one."""
    return f'podium.approval:{step_id}'


def message_for(decision: Decision) -> dict[str, Any]:
    """The DBOS message that carries `decision` to the waiting run."""
    message: dict[str, Any] = {
        'approved': not isinstance(decision, Reject),
        'reviewer': decision.reviewer,
        'reason': decision.reason,
    }
    if isinstance(decision, Edit):
        message['edit'] = decision.value
    return message


def _decision_of(message: dict[str, Any]) -> Decision:
    reviewer, reason = message.get('reviewer'), message.get('reason')
    if 'edit' in message:
        return Edit(value=message['edit'], reviewer=reviewer, reason=reason)
    if message.get('approved'):
        return Approve(reviewer=reviewer, reason=reason)
    return Reject(reason=reason or '', reviewer=reviewer)


class _DbosGate(ApprovalGate):
    """Waits for the decision as a DBOS message: the wait survives the process, and so does its timeout."""

    async def decide(self, step: Waiting, input: Any, summary: str, scope: StepScope) -> Decision | None:
        position = current_position()
        if active_run() is None or position is None:
            raise ConfigurationError(f'approval step {step.name!r} is waiting outside its durable run')
        cls = step.input_class
        waiting = {
            'step': position.sid,
            'name': step.name,
            'summary': summary,
            'since': time.time(),
            'timeout_s': step.timeout_s,
            'input_type': None if cls is None else f'{cls.__module__}:{cls.__qualname__}',
        }
        await DBOS.set_event_async(WAITING_EVENT, waiting)
        message: dict[str, Any] | None = await DBOS.recv_async(topic_for(position.sid), timeout_seconds=step.timeout_s)
        await DBOS.set_event_async(WAITING_EVENT, None)
        return None if message is None else _decision_of(message)


DBOS_GATE: ApprovalGate = _DbosGate()
"""The gate of every approval step in a durable run."""
