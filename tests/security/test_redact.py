"""`redact` takes out every secret shape a provider error, a header or a prompt may carry, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_ai.exceptions import ModelHTTPError

from podium import ConfigurationError, PodiumError, StepFailed
from podium._core._redact import _PATTERN, MARKER, _replace, describe, redact
from podium.durable import StoreUnavailable

OPENAI_KEY = 'sk-proj-CANARYa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6'

SECRETS = {
    'openai key': OPENAI_KEY,
    'legacy openai key': 'sk-CANARY0123456789abcdefghijklmnopqrstuvwxyz',
    'anthropic key': 'sk-ant-api03-CANARY0123456789abcdefghijklmnop-AA',
    'stripe key': 'sk_live_CANARY0123456789abcdef',
    'aws access key id': 'AKIACANARY0000000000',
    'aws session key id': 'ASIACANARY0000000000',
    'github token': 'ghp_CANARY000000000000000000000000000000',
    'github app token': 'ghs_CANARY000000000000000000000000000000',
    'github fine-grained token': 'github_pat_11CANARY0000000000_abcdefghijklmnopqrstuvwxyz',
    'google api key': 'AIzaCANARY00000000000000000000000000000',
    'slack token': 'xoxb-123456789012-CANARY0000',
    'jwt': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.CANARYsig_0123456789',
}

# (text, what must be left of it): the secret goes, the names, separators and quotes around it stay.
FORMS = [
    ('Authorization: Bearer CANARYtoken0123456789', 'Authorization: Bearer [REDACTED]'),
    ('authorization: Basic Q0FOQVJZOnBhc3N3b3Jk', 'authorization: Basic [REDACTED]'),
    ('"Authorization": "Bearer CANARYtoken0123456789"', '"Authorization": "[REDACTED]"'),
    ("{'authorization': 'Bearer CANARYtoken0123456789'}", "{'authorization': '[REDACTED]'}"),
    ('sent with bearer CANARY0123456789abcdef', 'sent with bearer [REDACTED]'),
    ('{"api_key": "CANARY-x", "model": "gpt-4o"}', '{"api_key": "[REDACTED]", "model": "gpt-4o"}'),
    ("{'api_key': 'CANARY x y', 'max_tokens': 100}", "{'api_key': '[REDACTED]', 'max_tokens': 100}"),
    ('{\\"api_key\\": \\"CANARY\\", \\"n\\": 1}', '{\\"api_key\\": \\"[REDACTED]\\", \\"n\\": 1}'),
    ('x-api-key: CANARY123\r\nhost: example.com', 'x-api-key: [REDACTED]\r\nhost: example.com'),
    ('api-key: CANARY123', 'api-key: [REDACTED]'),
    ('GET /v1?api_key=CANARY123&model=m', 'GET /v1?api_key=[REDACTED]&model=m'),
    ('GET /v1/models?key=CANARY123', 'GET /v1/models?key=[REDACTED]'),
    ('OPENAI_API_KEY=CANARY123 python app.py', 'OPENAI_API_KEY=[REDACTED] python app.py'),
    ('apiKey: "CANARY"', 'apiKey: "[REDACTED]"'),
    ('aws_secret_access_key = CANARY/K7MDENG+bPxRfiCY', 'aws_secret_access_key = [REDACTED]'),
    ('{"access_token": "CANARY", "token_type": "bearer"}', '{"access_token": "[REDACTED]", "token_type": "bearer"}'),
    ('token=CANARY123', 'token=[REDACTED]'),
    ('{"client_secret": "CANARY"}', '{"client_secret": "[REDACTED]"}'),
    ('password=CANARY&user=bob', 'password=[REDACTED]&user=bob'),
    ("{'passwd': 'CANARY'}", "{'passwd': '[REDACTED]'}"),
    ('"credentials": "CANARY"', '"credentials": "[REDACTED]"'),
    ('"private_key": "CANARY"', '"private_key": "[REDACTED]"'),
    ('postgresql://podium:CANARY@db.internal/runs', 'postgresql://podium:[REDACTED]@db.internal/runs'),
    (
        'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowCANARY\nAAAA==\n-----END RSA PRIVATE KEY-----\nend',
        'key:\n[REDACTED]\nend',
    ),
]

ORDINARY = [
    'rate limit exceeded, retry after 20s',
    'Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000',
    "status_code: 429, model_name: gpt-4o-mini, body: {'message': 'Slow down', 'code': 'rate_limit_exceeded'}",
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
    'request req_7f3a9c2e1b4d failed with 503; trace 550e8400-e29b-41d4-a716-446655440000; id 0x1f2e3d4c5b6a',
    'usage: input_tokens=10 output_tokens=5 max_tokens: 100 total_tokens=15 token_count=3',
    'claude-3-5-sonnet-20241022, gpt-4o-2024-08-06, models/gemini-1.5-pro-002',
    'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
    'Bearer authentication required; the key is missing',
    'the task-scheduler-and-risk-assessment-service is down',
    'podium step billing_resolve (status=degraded fallback_reason=rate_limit)',
    '',
]


@pytest.mark.parametrize('secret', SECRETS.values(), ids=SECRETS.keys())
def test_every_secret_shape_is_redacted_in_a_sentence(secret: str):
    text = f'Incorrect API key provided: {secret}. Check the key.'

    assert redact(text) == f'Incorrect API key provided: {MARKER}. Check the key.'


@pytest.mark.parametrize(('text', 'redacted'), FORMS)
def test_the_value_of_a_secret_name_is_redacted_in_every_form(text: str, redacted: str):
    assert redact(text) == redacted


@pytest.mark.parametrize('text', ORDINARY)
def test_ordinary_text_is_returned_as_it_is(text: str):
    assert redact(text) is text


def test_a_provider_error_keeps_its_class_status_and_explanation():
    error = ModelHTTPError(
        401,
        'gpt-4o',
        {'message': f'Incorrect API key provided: {OPENAI_KEY}.', 'type': 'invalid_request_error'},
    )

    assert describe(error) == (
        "ModelHTTPError: status_code: 401, model_name: gpt-4o, body: {'message': 'Incorrect API key provided: "
        "[REDACTED].', 'type': 'invalid_request_error'}"
    )


def test_describe_survives_an_exception_whose_str_raises():
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError('no message')

    assert describe(Broken()) == 'Broken'


def test_a_workflow_error_never_carries_a_secret_in_its_message():
    error = StepFailed(f'step failed: {OPENAI_KEY}', step='s')

    assert (error.message, str(error)) == ('step failed: [REDACTED]', 'step failed: [REDACTED]')


@pytest.mark.parametrize('error_type', [ConfigurationError, StoreUnavailable, PodiumError])
def test_every_podium_error_redacts_its_message(error_type: type[PodiumError]):
    error = error_type(f'cannot open the run store: password authentication failed, key {OPENAI_KEY}')

    assert str(error) == 'cannot open the run store: password authentication failed, key [REDACTED]'


@pytest.mark.parametrize('text', [text for text, _ in FORMS] + list(SECRETS.values()))
def test_redacting_twice_changes_nothing(text: str):
    once = redact(text)

    assert redact(once) is once


@given(before=st.text(), after=st.text(), secret=st.sampled_from(list(SECRETS.values())))
def test_a_secret_between_any_texts_is_gone(before: str, after: str, secret: str):
    redacted = redact(f'{before} {secret} {after}')

    assert secret not in redacted
    assert redact(redacted) == redacted


FRAGMENTS = [*SECRETS.values(), *(text for text, _ in FORMS), 'Key', 'TOKEN', ': ', '=', '"', "'", '://', '@', '?']


@given(st.lists(st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS)), max_size=8))
def test_the_quick_check_never_changes_the_outcome(parts: list[str]):
    text = ''.join(parts)

    assert redact(text) == _PATTERN.sub(_replace, text)
