"""The chaining coordinator: sequence (`>>`), branch, parallel, map_each, loop and with_input."""

from .._core._step import Chain
from ._branch import Branch, branch
from ._loop import Loop, LoopResult, StopReason, loop
from ._parallel import DEFAULT_MAX_CONCURRENCY, MapEach, Parallel, map_each, parallel
from ._with_input import WithInput, with_input

__all__ = (
    'DEFAULT_MAX_CONCURRENCY',
    'Branch',
    'Chain',
    'Loop',
    'LoopResult',
    'MapEach',
    'Parallel',
    'StopReason',
    'WithInput',
    'branch',
    'loop',
    'map_each',
    'parallel',
    'with_input',
)
