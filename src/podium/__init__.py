"""podium: typed prompt orchestration on Pydantic-AI.

Everything is a `Step[InT, OutT]`; composition (`>>`, `branch`, `parallel`, `map_each`, `loop`, routers) returns a
step, so pyright and mypy reject a workflow whose types don't line up.
"""

from ._core._errors import (
    AllModelsFailed,
    BudgetExceeded,
    CircuitOpen,
    ConfigurationError,
    ContextTooLarge,
    EmbeddingFailed,
    FallbackError,
    GuardFailed,
    GuardTripped,
    LoopLimitReached,
    NoRoute,
    OutputNotAvailable,
    PodiumError,
    PriceUnknown,
    ProviderAuthError,
    Refused,
    StepFailed,
    StepInputError,
    StepOutputError,
    StepTimeout,
    UnexpectedResponse,
    WorkflowError,
    WorkflowTimeout,
)
from ._core._flow import Flow, StepScope
from ._core._function import FunctionStep, step
from ._core._hooks import RunHook
from ._core._records import Attempt, RunResult, StepRecord
from ._core._step import Chain, Step
from ._core._traits import StepInfo, StepKind
from ._core._verdict import GuardVerdict
from .agents import AgentStep, agent
from .agents._pydantic_ai_internals import LeanPathUnavailable
from .chains import LoopResult, branch, loop, map_each, parallel, with_input
from .guards import Guard, Guarded, guard, guarded
from .routers import ModelRouter, Route, RouteDecision, Router, RuleRouter, SemanticRouter
from .tools import as_tool
from .tracing import instrument, uninstrument

__all__ = (
    'AgentStep',
    'AllModelsFailed',
    'Attempt',
    'BudgetExceeded',
    'Chain',
    'CircuitOpen',
    'ConfigurationError',
    'ContextTooLarge',
    'EmbeddingFailed',
    'FallbackError',
    'Flow',
    'FunctionStep',
    'Guard',
    'GuardFailed',
    'GuardTripped',
    'GuardVerdict',
    'Guarded',
    'LeanPathUnavailable',
    'LoopLimitReached',
    'LoopResult',
    'ModelRouter',
    'NoRoute',
    'OutputNotAvailable',
    'PodiumError',
    'PriceUnknown',
    'ProviderAuthError',
    'Refused',
    'Route',
    'RouteDecision',
    'Router',
    'RuleRouter',
    'RunHook',
    'RunResult',
    'SemanticRouter',
    'Step',
    'StepFailed',
    'StepInfo',
    'StepInputError',
    'StepKind',
    'StepOutputError',
    'StepRecord',
    'StepScope',
    'StepTimeout',
    'UnexpectedResponse',
    'WorkflowError',
    'WorkflowTimeout',
    'agent',
    'as_tool',
    'branch',
    'guard',
    'guarded',
    'instrument',
    'loop',
    'map_each',
    'parallel',
    'step',
    'uninstrument',
    'with_input',
)
