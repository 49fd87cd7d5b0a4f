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
    LoopLimitReached,
    NoRoute,
    OutputNotAvailable,
    PodiumError,
    PriceUnknown,
    ProviderAuthError,
    Refused,
    RunCancelled,
    StepFailed,
    StepInputError,
    StepOutputError,
    StepTimeout,
    UnexpectedResponse,
    WorkflowError,
    WorkflowTimeout,
)
from ._core._events import RunEvent
from ._core._flow import Flow, StepScope
from ._core._function import FunctionStep, step
from ._core._hooks import RunHook
from ._core._records import Attempt, RunResult, StepRecord
from ._core._step import Chain, Step
from ._core._stream import RunStream
from ._core._traits import StepInfo, StepKind
from .agents import AgentStep, agent
from .agents._pydantic_ai_internals import LeanPathUnavailable
from .chains import LoopResult, branch, loop, map_each, parallel, with_input
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
    'RunCancelled',
    'RunEvent',
    'RunHook',
    'RunResult',
    'RunStream',
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
    'instrument',
    'loop',
    'map_each',
    'parallel',
    'step',
    'uninstrument',
    'with_input',
)
