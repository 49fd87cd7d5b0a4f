"""Arguments of the wrong kind, as a caller without a type checker passes them: a `ConfigurationError` that says what
to pass, raised when the workflow is built or the run starts, never an `AttributeError` from deep inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic_ai import Agent

import podium
from podium import ConfigurationError
from podium.fallbacks import Backoff, CircuitBreaker, RetryBudget, RetryingModel, default, fallback, hedge
from podium.testing import ScriptedModel

RAW = Agent(ScriptedModel(default='hi'), name='writer')
WRITER = podium.agent(RAW)

BUILDS: dict[str, tuple[Callable[[], object], str]] = {
    'a function on the right of >>': (lambda: WRITER >> len, r"the right side of 'writer' >> .* podium\.step\(fn\)"),
    'a function on the left of >>': (
        lambda: (lambda text: text) >> WRITER,
        r'the left side of >> .*podium\.step\(fn\)',
    ),
    'an agent on the left of >>': (lambda: RAW >> WRITER, r'left side of >> .*got Agent: .*podium\.agent\(agent\)'),
    'an agent in parallel': (lambda: podium.parallel(WRITER, RAW), r'parallel step 2 .*got Agent'),
    'a function in map_each': (lambda: podium.map_each(len), r'map_each\(step\) must be a podium step'),
    'a function in loop': (lambda: podium.loop(len, until=bool, max_iterations=2), r'loop\(step\) must be a podium'),
    'an agent in with_input': (lambda: podium.with_input(RAW), r'with_input\(step\) must be a podium step'),
    'a value as a branch case': (
        lambda: podium.branch(bool, then=WRITER, otherwise='no'),
        r"the 'otherwise' case of a branch .*got str",
    ),
    'a text as the branch selector': (
        lambda: podium.branch('urgent', then=WRITER, otherwise=WRITER),
        r'branch needs a function of the input .*got str',
    ),
    'an agent as a fallback alternate': (lambda: fallback(WRITER, RAW), r'alternate 1 of fallback .*got Agent'),
    'an agent in default': (lambda: default(RAW, 'sorry'), r'the step default\(\) wraps .*got Agent'),
    'a function in hedge': (lambda: hedge(len, after=1), r'the step hedge\(\) wraps'),
    'a function as a route': (
        lambda: podium.RuleRouter({'a': WRITER, 'b': len}, keywords={'a': ['x']}, fallback='a'),
        r"route 'b' of router 'rule_router' must be a podium step",
    ),
    'an agent in guarded': (lambda: podium.guarded(RAW, input=[]), r'the step guarded\(\) wraps .*got Agent'),
    'an agent in as_tool': (lambda: podium.as_tool(RAW), r'as_tool\(step\) must be a podium step'),
    'a model name in podium.agent': (
        lambda: podium.agent('openai:gpt-4o'),  # type: ignore[call-overload]
        r"podium\.agent takes a Pydantic-AI agent, got str: build one: Agent\('openai:gpt-4o', \.\.\.\)",
    ),
    'a text as the prompt': (lambda: podium.agent(RAW, prompt='Hi {name}'), r'prompt= must be a function'),
    'a type name as the input type': (lambda: podium.agent(RAW, input_type='str'), r'input_type= must be a type'),
    'a text as an approval timeout': (lambda: podium.approval(timeout='1h'), r"timeout must be positive .*got '1h'"),
    'a NaN approval timeout': (lambda: podium.approval(timeout=float('nan')), r'timeout must be positive'),
    'a word as a router threshold': (
        lambda: podium.Router({'a': WRITER}, fallback='a', model=ScriptedModel(), min_confidence='high'),
        r"min_confidence must be within \[0, 1\], got 'high'",
    ),
    'one word as a keyword list': (
        lambda: podium.RuleRouter({'a': WRITER}, keywords={'a': 'invoice'}, fallback='a'),
        r"the keywords of route 'a' must be a list of non-empty words, got 'invoice'",
    ),
    'a text as a retry count': (lambda: RetryingModel(ScriptedModel(), attempts='3'), r"attempts must be .*got '3'"),
    'a text as an attempt timeout': (
        lambda: RetryingModel(ScriptedModel(), attempt_timeout='1'),
        r"attempt_timeout must be positive or None, got '1'",
    ),
    'a text as a breaker reset': (lambda: CircuitBreaker(reset_after='10'), r"reset_after must be positive, got '10'"),
    'a NaN backoff': (lambda: Backoff(base=float('nan')), r'Backoff base must not be negative, got nan'),
    'a text as a budget ratio': (lambda: RetryBudget(ratio='0.2'), r"ratio must be within \[0, 1\], got '0.2'"),
    'a NaN hedge delay': (lambda: hedge(WRITER, after=float('nan')), r'after must not be negative, got nan'),
    'a text as the fallback errors': (lambda: fallback(WRITER, WRITER, on='errors'), r"on= takes .*got 'errors'"),
    'a text as the default errors': (lambda: default(WRITER, 'sorry', on='errors'), r"on= takes .*got 'errors'"),
    'a number in podium.step': (lambda: podium.step(5), r'podium\.step takes a function of the input, got int'),
    'a step in podium.step': (lambda: podium.step(WRITER), r'got a step already: use it as it is'),
}


@pytest.mark.parametrize('build', BUILDS, ids=BUILDS)
def test_building_with_a_wrong_argument_says_what_to_pass(build: str):
    make, message = BUILDS[build]
    with pytest.raises(ConfigurationError, match=message):
        make()


RUN_OPTIONS: dict[str, tuple[dict[str, Any], str]] = {
    'usage limits as a dict': ({'usage_limits': {'request_limit': 1}}, r'usage_limits must be a .*UsageLimits, got'),
    'a timeout as text': ({'timeout': '5'}, r"timeout must be positive \(seconds\), got '5'"),
    'an endless timeout': ({'timeout': float('inf')}, r'timeout must be positive'),
    'hooks that are no hooks': ({'hooks': [object()]}, r'hooks must be a list or tuple of podium\.RunHook'),
    'a single hook': ({'hooks': podium.RunHook()}, r'hooks must be a list or tuple'),
    'an event callback that is no function': ({'on_event': 5}, r'on_event must be a function of each event'),
    'a path as the store': ({'store': 'runs.db'}, r'store must be a podium\.RunStore .*SQLiteRunStore\(path\)'),
}


@pytest.mark.parametrize('option', RUN_OPTIONS, ids=RUN_OPTIONS)
def test_a_run_option_of_the_wrong_kind_fails_before_any_model_call(option: str):
    options, message = RUN_OPTIONS[option]
    model = ScriptedModel(default='hi')
    step = podium.agent(Agent(model, name='writer'))

    with pytest.raises(ConfigurationError, match=message):
        step.run_sync('x', **options)

    assert model.prompts == []


STREAM_OPTIONS = [option for option, (options, _) in RUN_OPTIONS.items() if 'on_event' not in options]


@pytest.mark.parametrize('option', STREAM_OPTIONS)
def test_stream_checks_its_options_when_called_not_when_iterated(option: str):
    options, message = RUN_OPTIONS[option]
    with pytest.raises(ConfigurationError, match=message):
        WRITER.stream('x', **options)


def test_right_arguments_still_build_and_run():
    flow = podium.step(str.strip) >> WRITER
    assert flow.run_sync('  x ', timeout=5, hooks=(), usage_limits=None).output == 'hi'
