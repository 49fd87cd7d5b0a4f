"""The page at `GET /`, driven in Debian's headless Chromium: a person types a message and watches the steps.

Chromium and its driver come from Debian (`scripts/browser.sh`, which CI runs first); Selenium is pointed at them so
it never downloads a browser. Without them the test skips locally and fails under CI. The page's screenshot is
kept in test-artifacts/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_flows import Eventful, serving

from podium.serve import app

pytestmark = pytest.mark.needs_extras  # starlette, uvicorn and selenium, from the serve and dev extras

CHROMIUM = Path('/usr/bin/chromium')
DRIVER = Path('/usr/bin/chromedriver')
ARTIFACTS = Path(__file__).parents[2] / 'test-artifacts'


def _unavailable(reason: str) -> None:
    if os.environ.get('CI'):
        pytest.fail(f'{reason}; CI must run scripts/browser.sh before the tests')
    pytest.skip(reason)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    missing = [str(path) for path in (CHROMIUM, DRIVER) if not path.exists()]
    if missing:
        _unavailable(f'{" and ".join(missing)} missing: run scripts/browser.sh')
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed: pip install -e '.[dev]'")
        raise
    monkeypatch.setenv('SE_OFFLINE', 'true')  # Selenium Manager must not look for a browser of its own
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,900'):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def test_the_page_shows_the_run_of_the_support_desk_live(browser: Any, served: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f'{served}/')
    assert browser.find_element(By.ID, 'subtitle').text == 'workflow guarded(support_desk) · takes text'
    browser.find_element(By.ID, 'input').send_keys('my invoice shows a double charge of $30')
    browser.find_element(By.ID, 'run').click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, 'run-status').text not in ('idle', 'running'))
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / 'serve-page.png'))

    assert browser.find_element(By.ID, 'run-status').text == 'ok'
    steps = {
        step.get_attribute('data-path'): (
            step.find_element(By.CSS_SELECTOR, ':scope > .head .status').text,
            step.find_element(By.CSS_SELECTOR, ':scope > .head .route').text,
        )
        for step in browser.find_elements(By.CSS_SELECTOR, 'li.step')
    }
    desk = 'guarded(support_desk)/support_desk'
    assert steps == {
        'guarded(support_desk)': ('ok', ''),
        'guarded(support_desk)/secrets_guard': ('ok', '→ pass'),
        'guarded(support_desk)/injection_guard': ('ok', '→ pass'),
        'guarded(support_desk)/injection_guard/injection_guard_check': ('ok', ''),
        desk: ('ok', '→ billing (0.92)'),
        f'{desk}/billing': ('ok', ''),
        f'{desk}/billing/billing_extract': ('ok', ''),
        f'{desk}/billing/billing_urgency': ('ok', '→ high'),
        f'{desk}/billing/billing_urgency/billing_escalate': ('ok', ''),
        'guarded(support_desk)/refund_policy': ('ok', '→ pass'),
    }
    nested = browser.find_element(
        By.CSS_SELECTOR,
        f'li[data-path="guarded(support_desk)"] > ul > li[data-path="{desk}"] > ul > '
        f'li[data-path="{desk}/billing"] > ul > li[data-path="{desk}/billing/billing_urgency"] > ul > li',
    )
    assert nested.get_attribute('data-path') == f'{desk}/billing/billing_urgency/billing_escalate'
    output = json.loads(browser.find_element(By.CSS_SELECTOR, '#final pre').text)
    assert output == {
        'team': 'billing',
        'text': 'A billing specialist will reverse the duplicate charge today.',
        'escalated': True,
        'refund': None,
    }
    assert browser.find_element(By.ID, 'usage').text.startswith('usage: 4 requests, ')  # with the injection check


def test_the_page_draws_routes_attempts_fallbacks_and_partial_output_as_they_arrive(browser: Any):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    step = Eventful()
    with serving(app(step)) as url:
        browser.get(f'{url}/')
        browser.find_element(By.ID, 'input').send_keys('Ann')
        browser.find_element(By.ID, 'run').click()
        try:
            partial = WebDriverWait(browser, 30).until(
                lambda d: d.find_element(By.CSS_SELECTOR, 'li[data-path="eventful"] pre.partial')
            )
            WebDriverWait(browser, 30).until(lambda d: partial.text == 'Hello')  # the discarded draft is gone
            entry = browser.find_element(By.CSS_SELECTOR, 'li[data-path="eventful"]')
            assert entry.find_element(By.CSS_SELECTOR, '.route').text == '→ main (0.75)'
            assert entry.find_element(By.CSS_SELECTOR, '.reason').text == 'looks like the main case'
            assert entry.find_element(By.CSS_SELECTOR, '.status').text == 'running'
            notes = [note.text for note in entry.find_elements(By.CSS_SELECTOR, '.notes li')]
            assert notes == [
                'attempt 1 failed: ModelHTTPError (529): overloaded; retry in 0.50 s',
                'partial output discarded: the attempt failed',
                'fallback → backup: server_error',
            ]
            ARTIFACTS.mkdir(exist_ok=True)
            browser.save_screenshot(str(ARTIFACTS / 'serve-page-mid-run.png'))
        finally:
            step.release.set()
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, 'run-status').text == 'ok')
        assert browser.find_element(By.CSS_SELECTOR, '#final pre').text == 'Hello, Ann'
        assert entry.find_element(By.CSS_SELECTOR, '.status').text == 'ok'


def test_the_page_lists_an_agents_tool_calls_and_their_results(browser: Any):
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    import podium

    def lookup_order(order_id: int) -> str:
        """Where an order is."""
        return f'order {order_id} left the warehouse'

    clerk = Agent(TestModel(), tools=[lookup_order], name='clerk')
    with serving(app(podium.agent(clerk))) as url:
        browser.get(f'{url}/')
        browser.find_element(By.ID, 'input').send_keys('where is my order?')
        browser.find_element(By.ID, 'run').click()
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, 'run-status').text == 'ok')
        notes = [note.text for note in browser.find_elements(By.CSS_SELECTOR, 'li[data-path="clerk"] .notes li.tool')]
    assert notes == [
        'tool call: lookup_order({"order_id":0})',
        'tool result: lookup_order → order 0 left the warehouse',
    ]
