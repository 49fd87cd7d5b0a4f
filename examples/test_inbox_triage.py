"""Snapshot tests of examples/inbox_triage.py: every route, the fallback, the run-wide budget and the span tree.

The snapshots were written with `pytest --inline-snapshot=create` and read before keeping; CI runs plain `pytest`,
which only compares, so a change in what the workflow does fails here until the snapshot is updated on purpose.
"""

from __future__ import annotations

import pytest
from inbox_triage import LIMITS, build_workflow
from inline_snapshot import snapshot
from pydantic_ai.usage import UsageLimits

import podium
from podium.testing import TraceCapture


def steps_of(result: podium.RunResult[object]) -> list[tuple[str, str, str | None]]:
    return [(r.name, r.status, r.route or r.fallback_reason) for r in result.steps]


@pytest.mark.parametrize(
    'email',
    [
        'Invoice INV-8: amount due 80 EUR by the end of the month.',
        'Invoice INV-7 for 1250.00 EUR is attached, please pay by Friday.',
        'We want to buy 20 seats, can you send pricing?',
        'I cannot reset my password, the link is broken.',
        'You are our lottery WINNER, send your bank details.',
    ],
)
def test_every_route_answers_with_an_action(email: str) -> None:
    result = build_workflow().run_sync(email, usage_limits=LIMITS)
    assert result.status == 'ok'
    assert result.output.route == result.steps[0].route


def test_a_large_invoice_goes_to_review_with_the_original_email() -> None:
    email = 'Invoice INV-7 for 1250.00 EUR is attached, please pay by Friday.'
    result = build_workflow().run_sync(email, usage_limits=LIMITS)
    assert result.output.action == 'review'
    # the review prompt reads the run's input through the Flow, deep in the invoice chain
    assert result.output.text == snapshot(f'Please review: Acme GmbH asks 1250.00 EUR. Email: {email}')
    assert steps_of(result) == snapshot(
        [
            ('inbox', 'ok', 'invoice'),
            ('invoice', 'ok', None),
            ('fallback(retry(invoice_extract), invoice_extract_backup)', 'ok', None),
            ('retry(invoice_extract)', 'ok', None),
            ('invoice_extract', 'ok', None),
            ('amount', 'ok', 'otherwise'),
            ('invoice_review', 'ok', None),
        ]
    )


def test_an_unreadable_invoice_falls_back_to_the_backup_extractor() -> None:
    result = build_workflow().run_sync('Invoice scan attached, 90 EUR.', usage_limits=LIMITS)
    assert result.status == 'degraded'
    assert result.output.text == snapshot('Approved 90.00 EUR to unknown vendor.')
    assert steps_of(result) == snapshot(
        [
            ('inbox', 'ok', 'invoice'),
            ('invoice', 'ok', None),
            (
                'fallback(retry(invoice_extract), invoice_extract_backup)',
                'degraded',
                'invalid_output',
            ),
            ('retry(invoice_extract)', 'failed', None),
            ('invoice_extract', 'failed', None),
            ('invoice_extract_backup', 'ok', None),
            ('amount', 'ok', 'then'),
            ('approve', 'ok', None),
        ]
    )


def test_the_support_loop_calls_the_help_workflow_as_a_tool() -> None:
    result = build_workflow().run_sync('Help, the export gives me an error.', usage_limits=LIMITS)
    assert result.output.text == snapshot('This should help: https://help.example.com/export')
    assert steps_of(result) == snapshot(
        [
            ('inbox', 'ok', 'support'),
            ('support_agent', 'ok', None),
            ('search_help', 'ok', None),
            ('help_query', 'ok', None),
            ('search', 'ok', None),
        ]
    )
    assert (result.usage.requests, result.usage.tool_calls) == snapshot((4, 1))


def test_the_usage_limit_holds_across_the_tool_workflow() -> None:
    # The router, the agent's first turn and the tool's own agent already make three requests.
    with pytest.raises(podium.BudgetExceeded):
        build_workflow().run_sync('Help, the export gives me an error.', usage_limits=UsageLimits(request_limit=3))


def test_the_sales_pair_runs_in_parallel_under_one_span(podium_trace: TraceCapture) -> None:
    build_workflow().run_sync('Disappointed by the trial, but send me a quote for 5 seats anyway.')
    assert podium_trace.tree() == snapshot("""\
podium run inbox (status=ok route=sales path=lean usage.requests=3)
  chat demo-router
  podium step sales (status=ok)
    podium step read_lead (status=ok)
      podium step sales_lead (status=ok path=lean usage.requests=1)
        chat demo-lead
      podium step sales_sentiment (status=ok path=lean usage.requests=1)
        chat demo-sentiment
    podium step quote (status=ok)\
""")
