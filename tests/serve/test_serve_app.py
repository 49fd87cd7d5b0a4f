"""`POST /run`, the statuses of bad requests and failed runs, and `GET /openapi.json`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from serve_flows import SECRET, echo, leaks, takes_opaque, triage
from starlette.testclient import TestClient

from podium import ConfigurationError, Flow, RunHook
from podium.serve import app

pytestmark = pytest.mark.needs_extras  # starlette and the AG-UI types, from the serve extra


@pytest.fixture
def ticket_client() -> TestClient:
    return TestClient(app(triage))


def test_run_returns_the_typed_output_and_the_summary(desk: Any):
    response = TestClient(app(desk)).post('/run', json='my invoice shows a double charge of $30')
    assert response.status_code == 200
    body = response.json()
    assert body['output'] == {
        'team': 'billing',
        'text': 'A billing specialist will reverse the duplicate charge today.',
        'escalated': True,
        'refund': None,
    }
    assert body['status'] == 'ok'
    assert [(s['name'], s['kind'], s.get('route')) for s in body['steps']] == [
        ('guarded(support_desk)', 'guarded', None),
        ('secrets_guard', 'guard', 'pass'),
        ('support_desk', 'router', 'billing'),
        ('billing', 'chain', None),
        ('billing_extract', 'agent', None),
        ('billing_urgency', 'branch', 'high'),
        ('billing_escalate', 'agent', None),
        ('injection_guard', 'guard', 'pass'),
        ('injection_guard_check', 'agent', None),
        ('refund_policy', 'guard', 'pass'),
    ]
    assert body['usage']['requests'] == 4  # the router, two billing agents and the injection check


def test_a_model_input_is_validated_into_the_model(ticket_client: TestClient):
    response = ticket_client.post('/run', json={'text': 'down', 'priority': 3})
    assert response.json()['output'] == {'text': 'DOWN', 'urgent': True}


def test_a_body_that_misses_a_field_is_422_naming_it(ticket_client: TestClient):
    response = ticket_client.post('/run', json={'text': 'down'})
    assert response.status_code == 422
    body = response.json()
    assert body['error'] == 'invalid_input'
    assert body['message'] == 'the body does not fit Ticket: priority: Field required'
    assert body['detail'] == [{'loc': ['priority'], 'msg': 'Field required', 'type': 'missing'}]


def test_a_field_of_the_wrong_type_is_422_naming_it(ticket_client: TestClient):
    response = ticket_client.post('/run', json={'text': 'down', 'priority': 'high'})
    assert response.status_code == 422
    assert response.json()['detail'][0]['loc'] == ['priority']


def test_invalid_json_is_422(ticket_client: TestClient):
    response = ticket_client.post('/run', content=b'{"text": ', headers={'content-type': 'application/json'})
    assert response.status_code == 422
    assert response.json()['detail'][0]['type'] == 'json_invalid'


def test_a_text_workflow_takes_a_json_string():
    client = TestClient(app(echo))
    assert client.post('/run', json='hello').json()['output'] == 'hello'
    refused = client.post('/run', content=b'hello', headers={'content-type': 'application/json'})
    assert refused.status_code == 422
    assert 'send a JSON string' in refused.json()['message']


def test_a_body_that_is_not_json_typed_is_415():
    response = TestClient(app(echo)).post('/run', content=b'"hello"', headers={'content-type': 'text/plain'})
    assert response.status_code == 415
    assert response.json()['error'] == 'unsupported_media_type'


def test_a_declared_length_over_the_limit_is_413_before_reading():
    client = TestClient(app(echo, max_body_bytes=16))
    response = client.post('/run', json='x' * 100)
    assert response.status_code == 413
    assert response.json() == {
        'error': 'body_too_large',
        'message': 'the body is larger than the server accepts (16 bytes)',
    }
    assert client.post('/run', json='x' * 10).status_code == 200


def test_a_streamed_body_over_the_limit_is_413():
    def chunks() -> Any:  # a generator body is sent chunked, with no Content-Length
        yield b'"' + b'x' * 10
        yield b'x' * 10 + b'"'

    response = TestClient(app(echo, max_body_bytes=16)).post(
        '/run', content=chunks(), headers={'content-type': 'application/json'}
    )
    assert response.status_code == 413


def test_unknown_routes_and_methods_are_404_and_405(ticket_client: TestClient):
    missing = ticket_client.post('/nowhere', json={})
    assert missing.status_code == 404
    assert missing.json()['error'] == 'not_found'
    wrong = ticket_client.get('/run')
    assert wrong.status_code == 405
    assert wrong.headers['allow'] == 'POST'
    assert wrong.json()['message'] == '/run takes POST, not GET'


def test_a_failed_run_is_500_with_its_error_class_and_a_redacted_message():
    client = TestClient(app(leaks))
    response = client.post('/run', json='hi')
    assert response.status_code == 500
    body = response.json()
    assert body['error'] == 'StepFailed'
    assert body['step'] == 'leaks'
    assert SECRET not in response.text
    assert '[REDACTED]' in body['message']
    assert body['steps'][0]['status'] == 'failed'
    assert client.post('/run', json='again').status_code == 500  # the server keeps serving


def test_openapi_describes_the_input_and_output_types(ticket_client: TestClient):
    document = ticket_client.get('/openapi.json').json()
    assert document['openapi'] == '3.1.0'
    schemas = document['components']['schemas']
    run = document['paths']['/run']['post']
    assert run['requestBody']['content']['application/json']['schema'] == {'$ref': '#/components/schemas/Ticket'}
    assert schemas['Ticket']['required'] == ['text', 'priority']
    assert schemas['RunSummary']['properties']['output'] == {'$ref': '#/components/schemas/Answer'}
    assert set(run['responses']) == {'200', '413', '415', '422', '500'}
    assert set(document['paths']) == {'/', '/openapi.json', '/run', '/stream', '/ag-ui', '/vercel-ai'}
    assert 'RunEvent' in schemas


def test_every_reference_in_the_openapi_document_resolves(desk: Any):
    document = TestClient(app(desk)).get('/openapi.json').json()
    schemas = document['components']['schemas']

    def refs(value: object) -> list[str]:
        if isinstance(value, dict):
            own = [value['$ref']] if isinstance(value.get('$ref'), str) else []
            return own + [r for v in value.values() for r in refs(v)]
        if isinstance(value, list):
            return [r for v in value for r in refs(v)]
        return []

    found = refs(document)
    assert found
    assert {r.removeprefix('#/components/schemas/') for r in found} <= set(schemas)


def test_the_page_is_self_contained(desk: Any):
    response = TestClient(app(desk, title='Support <desk>')).get('/')
    assert response.status_code == 200
    assert response.headers['content-type'].startswith('text/html')
    page = response.text
    assert '<title>Support &lt;desk&gt; · podium</title>' in page
    assert 'http://' not in page  # nothing is fetched from elsewhere
    assert 'https://' not in page
    config = page.split('<script id="config" type="application/json">')[1].split('</script>')[0]
    assert json.loads(config) == {
        'title': 'Support <desk>',
        'workflow': 'guarded(support_desk)',
        'takes_text': True,
        'takes': 'text',
        'placeholder': 'Type a message',
    }
    assert '<desk>' not in config  # escaped, so no value can close the script element


def test_an_input_type_pydantic_cannot_read_is_refused_when_the_app_is_built():
    with pytest.raises(ConfigurationError, match='cannot read from JSON'):
        app(takes_opaque)


def test_max_body_bytes_must_be_positive():
    with pytest.raises(ConfigurationError, match='max_body_bytes'):
        app(echo, max_body_bytes=0)


class _BrokenHook(RunHook):
    def run_started(self, flow: Flow[Any]) -> None:
        raise ValueError(f'hook failed: api_key={SECRET}')


def test_an_error_outside_the_steps_is_500_redacted():
    response = TestClient(app(echo, hooks=[_BrokenHook()])).post('/run', json='hi')
    assert response.status_code == 500
    assert response.json()['error'] == 'ValueError'
    assert SECRET not in response.text
