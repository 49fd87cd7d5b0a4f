"""The public surface of `podium.durable`, pinned: a new name is a decision."""

from __future__ import annotations

import podium.durable


def test_public_names() -> None:
    assert set(podium.durable.__all__) == {
        'DEFAULT_DB',
        'Approval',
        'DurableError',
        'DurableResult',
        'DurableWorkflow',
        'NotWaiting',
        'Outcome',
        'ReplayMismatch',
        'Review',
        'RunInfo',
        'RunNotFound',
        'StepCheckpoint',
        'StoreUnavailable',
        'approval',
        'approve',
        'checkpointed',
        'durable',
        'list_runs',
        'reject',
        'run',
        'show_run',
    }
    for name in podium.durable.__all__:
        assert getattr(podium.durable, name) is not None
