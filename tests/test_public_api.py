"""A new public name is a decision, not an accident: this pins the surface of `podium`."""

from __future__ import annotations

import podium


def test_public_names():
    assert sorted(podium.__all__) == list(podium.__all__)
    assert set(podium.__all__) == {
        'AgentStep',
        'StepTimeout',
        'UnexpectedResponse',
        'Refused',
        'ProviderAuthError',
        'FallbackError',
        'ContextTooLarge',
        'CircuitOpen',
        'AllModelsFailed',
        'SemanticRouter',
        'PriceUnknown',
        'ModelRouter',
        'EmbeddingFailed',
        'Attempt',
        'BudgetExceeded',
        'Chain',
        'ConfigurationError',
        'Flow',
        'FunctionStep',
        'LoopLimitReached',
        'LoopResult',
        'NoRoute',
        'OutputNotAvailable',
        'RunHook',
        'StepInfo',
        'StepKind',
        'StepScope',
        'with_input',
        'PodiumError',
        'Route',
        'RouteDecision',
        'Router',
        'RuleRouter',
        'RunResult',
        'Step',
        'StepFailed',
        'StepInputError',
        'StepOutputError',
        'StepRecord',
        'WorkflowError',
        'WorkflowTimeout',
        'agent',
        'as_tool',
        'branch',
        'instrument',
        'loop',
        'map_each',
        'parallel',
        'step',
        'uninstrument',
    }


def test_every_public_name_exists():
    for name in podium.__all__:
        assert getattr(podium, name) is not None
