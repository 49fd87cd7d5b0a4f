"""A router's reason is model output that may quote the user's message: it is redacted in the record it is kept in."""

from __future__ import annotations

import pytest

import podium
from podium.testing import ScriptedModel

pytestmark = pytest.mark.anyio

KEY = 'sk-proj-CANARYa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8'


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


async def test_a_routers_reason_quoting_a_secret_is_redacted_in_the_record_and_the_summary():
    decision = {'route': 'billing', 'confidence': 0.9, 'reason': f'they pasted password={KEY} and ask for a refund'}
    desk = podium.Router(
        {
            'billing': podium.Route(podium.step(str.upper, name='billing'), 'billing questions'),
            'other': podium.Route(podium.step(str.lower, name='other'), 'anything else'),
        },
        fallback='other',
        model=ScriptedModel(default=decision),
    )

    result = await desk.run(f'refund please, my password={KEY}')

    redacted = 'they pasted password=[REDACTED] and ask for a refund'
    assert result.record('router').reason == redacted
    assert [step.get('reason') for step in result.summary()['steps']] == [redacted, None]  # outputs are user data
