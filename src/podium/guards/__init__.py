"""Guards: typed checks on what a step receives and produces, as steps, with records, spans and eval metrics.

`guard(check, on='input'|'output')` makes a `Step[T, T]` that lets a value on, passes on a redacted replacement,
or stops it (`GuardTripped`, or a `safe_response` step that answers instead). `guarded(step, input=[...],
output=[...])` runs input guards concurrently with the step and cancels it when one trips. `secrets_guard`,
`injection_guard` and `policy_guard` are ready-made guards.
"""

from .._core._errors import GuardFailed, GuardTripped
from .._core._verdict import GuardVerdict
from ._demo import INJECTION_PATTERNS, demo_injection_model, flag_injection
from ._guard import Guard, GuardAction, Side, guard
from ._guarded import Guarded, guarded
from ._recipes import INJECTION_INSTRUCTIONS, injection_guard, policy_guard, secrets_guard
from ._trips import tripped, tripped_guards

__all__ = (
    'INJECTION_INSTRUCTIONS',
    'INJECTION_PATTERNS',
    'Guard',
    'GuardAction',
    'GuardFailed',
    'GuardTripped',
    'GuardVerdict',
    'Guarded',
    'Side',
    'demo_injection_model',
    'flag_injection',
    'guard',
    'guarded',
    'injection_guard',
    'policy_guard',
    'secrets_guard',
    'tripped',
    'tripped_guards',
)
