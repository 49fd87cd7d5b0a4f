"""How the `podium` command ends: its exit codes, and every error turned into one line on stderr.

A person at a terminal (or a CI log) needs the problem and what to do about it, not a traceback; `--debug` adds
the traceback for whoever has to look deeper. Every line passes through `redact`, as errors may quote a provider's
response or a module's message, which may hold an API key.
"""

from __future__ import annotations

import sys
import traceback

from .._core._errors import PodiumError, WorkflowError
from .._core._redact import describe, redact

__all__ = ('BELOW_THRESHOLD', 'EPILOG', 'FAILED', 'INTERRUPTED', 'USAGE', 'fail')

FAILED = 1
"""The workflow ran and failed: a step raised, a budget ran out, a step exited the process."""
USAGE = 2
"""The command cannot start: bad arguments, a file that cannot be read or written, an input that fails the
workflow's input type, an unsupported `--db` URL."""
BELOW_THRESHOLD = 3
"""`podium eval` ran every case and the pass rate is below `--fail-under`."""
INTERRUPTED = 130
"""Stopped with Ctrl-C (128 + SIGINT, as shells report it)."""

EPILOG = f"""\
exit codes:
  0    done (for podium eval: every case ran, whatever the pass rate)
  {FAILED}    the workflow ran and failed (a step raised, a budget ran out, a step exited the process)
  {USAGE}    usage error: bad arguments, a file that cannot be read or written, an input that fails the
       workflow's input type, an unsupported --db URL, a run store that cannot be reached
  {BELOW_THRESHOLD}    podium eval: the pass rate is below --fail-under
  {INTERRUPTED}  interrupted (Ctrl-C)

Errors print one line on stderr; add --debug to any command for the traceback.
"""


def fail(exc: BaseException, *, debug: bool) -> int:
    """Print `exc` as one redacted line on stderr (after its traceback with `debug`) and return the exit code."""
    leaf = _first_leaf(exc)
    code, message = _explain(leaf)
    if debug:
        traceback.print_exception(exc)
    elif code == FAILED and not isinstance(leaf, WorkflowError):
        message += ' (--debug shows the traceback)'
    print(f'error: {redact(message)}', file=sys.stderr)
    return code


def _first_leaf(exc: BaseException) -> BaseException:
    """The error inside task groups' exception groups: one failing task is what the person needs to hear about."""
    group = issubclass(type(exc), BaseExceptionGroup)  # not isinstance: it would narrow to a group of Unknown
    leaves: tuple[BaseException, ...] = getattr(exc, 'exceptions', ()) if group else ()
    return _first_leaf(leaves[0]) if leaves else exc


def _explain(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED, 'interrupted'
    if isinstance(exc, WorkflowError):
        return FAILED, str(exc)
    if isinstance(exc, PodiumError):  # misuse: a bad --db URL, a run store that cannot be reached, an unknown run
        return USAGE, str(exc)
    if isinstance(exc, SystemExit):
        return FAILED, (
            f'the workflow called exit({exc.code!r}) instead of returning or raising; a step must not exit the '
            'process, so the run failed'
        )
    if isinstance(exc, ImportError):  # an optional extra a command needs is not installed; the message names it
        return USAGE, str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f' {exc.filename!r}' if exc.filename is not None else ''
        return USAGE, f'cannot use{where}: {exc.strerror}'
    return FAILED, describe(exc)
