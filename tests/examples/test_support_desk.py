from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from inline_snapshot import snapshot

EXAMPLES = Path(__file__).parents[2] / 'examples'
sys.path.insert(0, str(EXAMPLES))
from support_desk import workflow  # noqa: E402

pytestmark = pytest.mark.anyio


async def test_a_double_charge_goes_to_billing_and_escalates():
    result = await workflow.run('my invoice shows a double charge')
    assert result.summary() == snapshot(
        {
            'workflow': 'guarded(support_desk)',
            'status': 'ok',
            'output': {
                'team': 'billing',
                'text': 'A billing specialist will reverse the duplicate charge today.',
                'escalated': True,
                'refund': None,
            },
            'steps': [
                {
                    'name': 'guarded(support_desk)',
                    'kind': 'guarded',
                    'status': 'ok',
                    'output': {
                        'team': 'billing',
                        'text': 'A billing specialist will reverse the duplicate charge today.',
                        'escalated': True,
                        'refund': None,
                    },
                },
                {
                    'name': 'secrets_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'my invoice shows a double charge',
                },
                {
                    'name': 'support_desk',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'billing',
                    'confidence': 0.92,
                    'reason': 'mentions billing keywords',
                    'model': 'demo-router',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 56, 'output_tokens': 12},
                },
                {'name': 'billing', 'kind': 'chain', 'status': 'ok'},
                {
                    'name': 'billing_extract',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-billing',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 56, 'output_tokens': 16},
                    'output': {
                        'kind': 'double_charge',
                        'summary': 'my invoice shows a double charge',
                        'amount': None,
                        'urgency': 'high',
                    },
                },
                {'name': 'billing_urgency', 'kind': 'branch', 'status': 'ok', 'route': 'high'},
                {
                    'name': 'billing_escalate',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-billing',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 66, 'output_tokens': 18},
                    'output': {
                        'team': 'billing',
                        'text': 'A billing specialist will reverse the duplicate charge today.',
                        'escalated': True,
                        'refund': None,
                    },
                },
                {
                    'name': 'injection_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'reason': 'no injection found',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'my invoice shows a double charge',
                },
                {
                    'name': 'injection_guard_check',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-injection',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 56, 'output_tokens': 9},
                    'output': {'allowed': True, 'reason': 'no injection found', 'replacement': None},
                },
                {
                    'name': 'refund_policy',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'output', 'tripped': False},
                    'output': {
                        'team': 'billing',
                        'text': 'A billing specialist will reverse the duplicate charge today.',
                        'escalated': True,
                        'refund': None,
                    },
                },
            ],
            'usage': {'requests': 4, 'input_tokens': 234, 'output_tokens': 55},
        }
    )


async def test_a_crash_goes_to_tech_and_escalates():
    result = await workflow.run('the app crashes on startup')
    assert result.summary() == snapshot(
        {
            'workflow': 'guarded(support_desk)',
            'status': 'ok',
            'output': {
                'team': 'tech',
                'text': 'An engineer is looking at the crash; we will update you within the hour.',
                'escalated': True,
                'refund': None,
            },
            'steps': [
                {
                    'name': 'guarded(support_desk)',
                    'kind': 'guarded',
                    'status': 'ok',
                    'output': {
                        'team': 'tech',
                        'text': 'An engineer is looking at the crash; we will update you within the hour.',
                        'escalated': True,
                        'refund': None,
                    },
                },
                {
                    'name': 'secrets_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'the app crashes on startup',
                },
                {
                    'name': 'support_desk',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'tech',
                    'confidence': 0.92,
                    'reason': 'mentions tech keywords',
                    'model': 'demo-router',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 55, 'output_tokens': 12},
                },
                {'name': 'tech', 'kind': 'chain', 'status': 'ok'},
                {
                    'name': 'tech_triage',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-tech',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 55, 'output_tokens': 13},
                    'output': {'component': 'startup', 'summary': 'the app crashes on startup', 'severity': 'blocker'},
                },
                {'name': 'tech_severity', 'kind': 'branch', 'status': 'ok', 'route': 'blocker'},
                {
                    'name': 'tech_escalate',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-tech',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 63, 'output_tokens': 23},
                    'output': {
                        'team': 'tech',
                        'text': 'An engineer is looking at the crash; we will update you within the hour.',
                        'escalated': True,
                        'refund': None,
                    },
                },
                {
                    'name': 'injection_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'reason': 'no injection found',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'the app crashes on startup',
                },
                {
                    'name': 'injection_guard_check',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-injection',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 55, 'output_tokens': 9},
                    'output': {'allowed': True, 'reason': 'no injection found', 'replacement': None},
                },
                {
                    'name': 'refund_policy',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'output', 'tripped': False},
                    'output': {
                        'team': 'tech',
                        'text': 'An engineer is looking at the crash; we will update you within the hour.',
                        'escalated': True,
                        'refund': None,
                    },
                },
            ],
            'usage': {'requests': 4, 'input_tokens': 228, 'output_tokens': 57},
        }
    )


async def test_buying_seats_goes_to_sales_for_a_quote():
    result = await workflow.run('I want to buy 20 more seats')
    assert result.summary() == snapshot(
        {
            'workflow': 'guarded(support_desk)',
            'status': 'ok',
            'output': {
                'team': 'sales',
                'text': 'Here is a quote for the extra seats; reply to accept it.',
                'escalated': False,
                'refund': None,
            },
            'steps': [
                {
                    'name': 'guarded(support_desk)',
                    'kind': 'guarded',
                    'status': 'ok',
                    'output': {
                        'team': 'sales',
                        'text': 'Here is a quote for the extra seats; reply to accept it.',
                        'escalated': False,
                        'refund': None,
                    },
                },
                {
                    'name': 'secrets_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'I want to buy 20 more seats',
                },
                {
                    'name': 'support_desk',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'sales',
                    'confidence': 0.92,
                    'reason': 'mentions sales keywords',
                    'model': 'demo-router',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 57, 'output_tokens': 12},
                },
                {'name': 'sales', 'kind': 'chain', 'status': 'ok'},
                {
                    'name': 'sales_qualify',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-sales',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 57, 'output_tokens': 18},
                    'output': {
                        'intent': 'buy',
                        'product': 'team plan',
                        'seats': 20,
                        'summary': 'I want to buy 20 more seats',
                    },
                },
                {'name': 'sales_intent', 'kind': 'branch', 'status': 'ok', 'route': 'buy'},
                {
                    'name': 'sales_quote',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-sales',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 68, 'output_tokens': 21},
                    'output': {
                        'team': 'sales',
                        'text': 'Here is a quote for the extra seats; reply to accept it.',
                        'escalated': False,
                        'refund': None,
                    },
                },
                {
                    'name': 'injection_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'reason': 'no injection found',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'I want to buy 20 more seats',
                },
                {
                    'name': 'injection_guard_check',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-injection',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 57, 'output_tokens': 9},
                    'output': {'allowed': True, 'reason': 'no injection found', 'replacement': None},
                },
                {
                    'name': 'refund_policy',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'output', 'tripped': False},
                    'output': {
                        'team': 'sales',
                        'text': 'Here is a quote for the extra seats; reply to accept it.',
                        'escalated': False,
                        'refund': None,
                    },
                },
            ],
            'usage': {'requests': 4, 'input_tokens': 239, 'output_tokens': 60},
        }
    )


async def test_an_out_of_scope_message_goes_to_the_fallback_route():
    result = await workflow.run('what is the weather in Paris?')
    assert result.summary() == snapshot(
        {
            'workflow': 'guarded(support_desk)',
            'status': 'ok',
            'output': {
                'team': 'front_desk',
                'text': 'I can help with billing, technical problems and purchases. Could you tell me more?',
                'escalated': False,
                'refund': None,
            },
            'steps': [
                {
                    'name': 'guarded(support_desk)',
                    'kind': 'guarded',
                    'status': 'ok',
                    'output': {
                        'team': 'front_desk',
                        'text': 'I can help with billing, technical problems and purchases. Could you tell me more?',
                        'escalated': False,
                        'refund': None,
                    },
                },
                {
                    'name': 'secrets_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'what is the weather in Paris?',
                },
                {
                    'name': 'support_desk',
                    'kind': 'router',
                    'status': 'ok',
                    'route': 'out_of_scope',
                    'confidence': 0.88,
                    'reason': 'not about billing, tech or sales',
                    'model': 'demo-router',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 56, 'output_tokens': 15},
                },
                {
                    'name': 'out_of_scope',
                    'kind': 'function',
                    'status': 'ok',
                    'output': {
                        'team': 'front_desk',
                        'text': 'I can help with billing, technical problems and purchases. Could you tell me more?',
                        'escalated': False,
                        'refund': None,
                    },
                },
                {
                    'name': 'injection_guard',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'reason': 'no injection found',
                    'detail': {'on': 'input', 'tripped': False},
                    'output': 'what is the weather in Paris?',
                },
                {
                    'name': 'injection_guard_check',
                    'kind': 'agent',
                    'status': 'ok',
                    'model': 'demo-injection',
                    'path': 'lean',
                    'usage': {'requests': 1, 'input_tokens': 56, 'output_tokens': 9},
                    'output': {'allowed': True, 'reason': 'no injection found', 'replacement': None},
                },
                {
                    'name': 'refund_policy',
                    'kind': 'guard',
                    'status': 'ok',
                    'route': 'pass',
                    'detail': {'on': 'output', 'tripped': False},
                    'output': {
                        'team': 'front_desk',
                        'text': 'I can help with billing, technical problems and purchases. Could you tell me more?',
                        'escalated': False,
                        'refund': None,
                    },
                },
            ],
            'usage': {'requests': 2, 'input_tokens': 112, 'output_tokens': 24},
        }
    )


def test_the_script_says_it_used_demo_models():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / 'support_desk.py'), 'my invoice shows a double charge'],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert out.splitlines()[:2] == [
        'models: demo models (offline, deterministic): pass --model to use a real one',
        'route:  billing',
    ]
    assert 'billing_extract: BillingFacts(' in out


def test_the_agent_loop_example_runs_offline():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / 'agent_loop.py'), 'the app crashes on startup'],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert '"escalated": true' in out
    assert 'usage: 6 requests, 2 tool calls (whole loop, desk included)' in out
