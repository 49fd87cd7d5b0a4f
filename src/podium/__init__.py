"""podium: typed prompt orchestration on Pydantic-AI.

Everything is a `Step[InT, OutT]`; composition (`>>`, `branch`, `parallel`, `map_each`, `loop`, routers) returns a
step, so pyright and mypy reject a workflow whose types don't line up.
"""

from ._core._approval import Approval, approval
from ._core._decisions import Approve, Decision, Edit, Reject, Review
from ._core._errors import (
    AllModelsFailed,
    AlreadyResumed,
    BudgetExceeded,
    CircuitOpen,
    ConfigurationError,
    ContextTooLarge,
    EmbeddingFailed,
    FallbackError,
    GuardFailed,
    GuardTripped,
    InvalidDecision,
    LoopLimitReached,
    NoRoute,
    NotWaiting,
    OutputNotAvailable,
    PodiumError,
    PriceUnknown,
    ProviderAuthError,
    Refused,
    RunCancelled,
    RunNotFound,
    StepFailed,
    StepInputError,
    StepOutputError,
    StepTimeout,
    UnexpectedResponse,
    WorkflowError,
    WorkflowTimeout,
    WrongWorkflow,
)
from ._core._events import RunEvent
from ._core._flow import Flow, StepScope
from ._core._function import FunctionStep, step
from ._core._hooks import RunHook
from ._core._records import Attempt, PausedRun, RunResult, StepRecord
from ._core._run_store import InMemoryRunStore, RunSnapshot, RunStore, SQLiteRunStore
from ._core._step import Chain, Step
from ._core._stream import RunStream
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
    'AlreadyResumed',
    'Approval',
    'Approve',
    'Attempt',
    'BudgetExceeded',
    'Chain',
    'CircuitOpen',
    'ConfigurationError',
    'ContextTooLarge',
    'Decision',
    'Edit',
    'EmbeddingFailed',
    'FallbackError',
    'Flow',
    'FunctionStep',
    'Guard',
    'GuardFailed',
    'GuardTripped',
    'GuardVerdict',
    'Guarded',
    'InMemoryRunStore',
    'InvalidDecision',
    'LeanPathUnavailable',
    'LoopLimitReached',
    'LoopResult',
    'ModelRouter',
    'NoRoute',
    'NotWaiting',
    'OutputNotAvailable',
    'PausedRun',
    'PodiumError',
    'PriceUnknown',
    'ProviderAuthError',
    'Refused',
    'Reject',
    'Review',
    'Route',
    'RouteDecision',
    'Router',
    'RuleRouter',
    'RunCancelled',
    'RunEvent',
    'RunHook',
    'RunNotFound',
    'RunResult',
    'RunSnapshot',
    'RunStore',
    'RunStream',
    'SQLiteRunStore',
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
    'WrongWorkflow',
    'agent',
    'approval',
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
