"""An eval report quotes what the workflow produced when a check fails; the secrets in it are redacted."""

from __future__ import annotations

from io import StringIO

import pytest
from pydantic_evals import Case
from rich.console import Console

import podium
from podium.evals import WorkflowDataset, evaluate_workflow, expect, render_report

pytestmark = pytest.mark.anyio

KEY = 'sk-proj-CANARYa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8'


@pytest.fixture
def anyio_backend() -> str:
    return 'asyncio'


@podium.step
def reply(text: str) -> dict[str, str]:
    """Stands for a model that repeats the secret a user pasted."""
    return {'answer': f'you sent the key {KEY}, please rotate it', 'team': 'billing'}


async def test_a_failed_check_quoting_model_output_shows_no_secret_in_the_report_or_its_json():
    dataset = WorkflowDataset(
        name='leaky',
        cases=[Case(name='pasted key', inputs=f'my key is {KEY}', evaluators=expect(output={'answer': 'no idea'}))],
    )

    report = await evaluate_workflow(reply, dataset)

    console = Console(file=StringIO(), width=200, color_system=None)
    console.print(render_report(report))
    rendered = console.file.getvalue()  # pyright: ignore[reportAttributeAccessIssue,reportUnknownMemberType]
    assert report.result('pasted key').failures == [
        "output: answer: expected 'no idea', got 'you sent the key [REDACTED], please rotate it'"
    ]
    assert ('CANARY' in rendered, 'CANARY' in report.model_dump_json()) == (False, False)
    assert '[REDACTED]' in rendered
