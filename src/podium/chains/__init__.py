"""The chaining coordinator: sequence (`>>`), branch, parallel, map_each and loop."""

from .._core._step import Chain
from ._branch import Branch, branch
from ._loop import Loop, LoopResult, StopReason, loop
from ._parallel import MapEach, Parallel, map_each, parallel

__all__ = (
    'Branch',
    'Chain',
    'Loop',
    'LoopResult',
    'MapEach',
    'Parallel',
    'StopReason',
    'branch',
    'loop',
    'map_each',
    'parallel',
)
