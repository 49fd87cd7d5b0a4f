"""Commands for durable and paused runs: `run --durable`, `runs`, `runs show|approve|reject`, `worker`.

`runs approve|reject` (and `runs`) also work on a `SQLiteRunStore` file of runs paused at an approval step outside
DBOS: the decision is recorded with the run, and its workflow's `resume(token)` uses it.

`podium.durable` needs DBOS (`pip install 'podium[durable]'`); it is imported when a command runs, so the rest of
the CLI works without it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from pydantic_core import to_jsonable_python

from .._core._decisions import Approve, Reject
from .._core._errors import LoadError
from .._core._records import usage_summary
from .._core._run_store import SQLiteRunStore, is_run_store
from .._core._step import Step
from ._input import parse_input
from ._load import load_object
from ._parser import add_command, positive_int

if TYPE_CHECKING:
    from ..durable import DurableResult, DurableWorkflow, RunInfo
    from ._parser import Commands

__all__ = ('add_commands',)

Command = Callable[[argparse.Namespace], int]
_DB_HELP = (
    'the run store: sqlite:///file.sqlite or postgresql://... (default: $PODIUM_DB or sqlite:///podium_runs.sqlite)'
)
_DRIVERS = ('dbos', 'psycopg', 'sqlalchemy')
_LOG_LEVEL_ENV = 'PODIUM_DBOS_LOG_LEVEL'


def _needs_dbos(command: Command) -> Command:
    """Turn a missing DBOS install into an instruction instead of a traceback."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.partition('.')[0] not in _DRIVERS:
                raise
            print(
                f"error: durable runs need DBOS ({exc.name} is missing): pip install 'podium[durable]'", file=sys.stderr
            )
            return 2

    return run


def add_commands(commands: Commands) -> None:
    """Register the durable commands, and `--durable` on `podium run`."""
    run = commands.choices.get('run')
    if run is not None:
        _extend_run(run)

    runs = add_command(commands, 'runs', help='list durable runs, or show one')
    runs.add_argument('--db', help=_DB_HELP)
    runs.add_argument('--limit', type=positive_int, default=50, help='how many runs to list, newest first (default 50)')
    runs.set_defaults(handler=_runs)
    shows = runs.add_subparsers(dest='runs_command')
    show = add_command(shows, 'show', help="print a run's checkpoints and step records")
    show.add_argument('run_id')
    show.add_argument('--db', help=_DB_HELP)
    show.add_argument('--json', action='store_true', help='print the run as JSON')
    show.set_defaults(handler=_needs_dbos(_show))
    for name, approved in (('approve', True), ('reject', False)):
        decide = add_command(
            shows, name, help=f'{name} a run waiting at an approval step (a paused run, or a durable one)'
        )
        decide.add_argument('run_id', help="the paused run's resume token, or the durable run's id")
        decide.add_argument('--reason', required=not approved, help='why; shown in the run and passed on')
        decide.add_argument('--by', help='who decides (recorded with the decision)')
        decide.add_argument('--db', help=_DB_HELP + ', or a SQLiteRunStore file of paused runs')
        decide.set_defaults(handler=functools.partial(_decide_any, approved=approved))

    for name, handler, helptext in (
        ('approve', _approve, 'approve a run waiting at an approval step'),
        ('reject', _reject, 'reject a run waiting at an approval step'),
    ):
        decide = add_command(commands, name, help=helptext)
        decide.add_argument('run_id')
        decide.add_argument('--reason', required=name == 'reject', help='why; shown in the run and passed on')
        decide.add_argument('--by', help='who decides (recorded with the decision)')
        decide.add_argument('--db', help=_DB_HELP)
        decide.set_defaults(handler=_needs_dbos(handler))

    worker = add_command(commands, 'worker', help="run a workflow's queued durable runs until stopped")
    worker.add_argument('workflow', help='path/to/file.py:attr or package.module:attr')
    worker.add_argument('--db', help=_DB_HELP)
    worker.add_argument('--name', help='the durable name of the workflow (default: its step name)')
    worker.add_argument('--worker-id', help='restart with the same id to resume the runs this worker had in flight')
    worker.add_argument(
        '--concurrency', type=positive_int, help='most runs at a time in this worker (default: unlimited)'
    )
    worker.set_defaults(handler=_needs_dbos(_worker))


def _extend_run(run: argparse.ArgumentParser) -> None:
    """Wrap `podium run`'s handler: with `--durable` the run is checkpointed, resumable and can wait for approval."""
    plain: Command = run.get_default('handler')
    run.add_argument('--durable', action='store_true', help='run durably: checkpointed, resumable after a crash')
    run.add_argument('--db', help=_DB_HELP + '; implies --durable')
    run.add_argument('--run-id', help='the durable run id; an id left unfinished by a crash resumes that run')
    run.add_argument('--name', help='the durable name of the workflow (default: its step name)')

    durable_run = _needs_dbos(_run_durable)

    def handler(args: argparse.Namespace) -> int:
        if args.durable or args.db or args.run_id:
            return durable_run(args)
        return plain(args)

    run.set_defaults(handler=handler)


def _load(args: argparse.Namespace) -> DurableWorkflow[Any, Any]:
    """The durable workflow a reference names: a `DurableWorkflow` as it is, or a step made durable here."""
    from ..durable import DurableWorkflow, durable
    from ..durable._store import Store

    value = load_object(args.workflow)
    if isinstance(value, DurableWorkflow):
        if args.db is not None and Store.resolve(args.db) != value.store:
            raise LoadError(f'{args.workflow} runs on {value.store.display}, not on --db {args.db}')
        return value  # pyright: ignore[reportUnknownVariableType]
    if not isinstance(value, Step):
        raise LoadError(f'{args.workflow!r} is of type {type(value).__name__}, not a podium Step or DurableWorkflow')
    step: Step[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
    return durable(step, name=args.name, db=args.db, concurrency=getattr(args, 'concurrency', None))


def _run_durable(args: argparse.Namespace) -> int:
    desk = _load(args)
    input_value = parse_input(desk.workflow, args.input)

    async def main() -> DurableResult[object]:
        try:
            run_id = await desk.start(input_value, run_id=args.run_id)
            print(f'run {run_id}', file=sys.stderr)
            result: DurableResult[object] | None = None
            async with anyio.create_task_group() as tg:  # a failed run leaves it inside an ExceptionGroup
                tg.start_soon(_announce_wait, desk, run_id)
                try:
                    result = await desk.result(run_id)
                finally:
                    tg.cancel_scope.cancel()
            assert result is not None
            return result
        finally:
            desk.shutdown()

    with _quiet_dbos(debug=getattr(args, 'debug', False)):
        result = anyio.run(main)
    if args.json:
        print(json.dumps({'run_id': result.run_id, **result.summary()}, indent=2))
        return 0
    for record in result.steps:
        extra = f' -> {record.route}' if record.route else ''
        print(f'{record.name} [{record.kind}]{extra}: {record.status}')
    print(json.dumps(to_jsonable_python(result.output, fallback=repr), indent=2))
    usage = usage_summary(result.usage)
    print(f'status: {result.status}; run {result.run_id}; usage: {usage["requests"]} requests')
    return 0


@contextlib.contextmanager
def _quiet_dbos(*, debug: bool) -> Generator[None]:
    """Keep DBOS from logging a failed run's traceback, unredacted, before the command's one-line error.

    `$PODIUM_DBOS_LOG_LEVEL`, when set, and `--debug` keep DBOS's own logging.
    """
    if debug or _LOG_LEVEL_ENV in os.environ:
        yield
        return
    os.environ[_LOG_LEVEL_ENV] = 'CRITICAL'
    try:
        yield
    finally:
        del os.environ[_LOG_LEVEL_ENV]


async def _announce_wait(desk: DurableWorkflow[Any, Any], run_id: str) -> None:
    """Tell the person at the terminal when the run pauses for a decision, and how to give it."""
    from ..durable import show_run

    while True:
        await anyio.sleep(0.5)
        info = await anyio.to_thread.run_sync(show_run, run_id, desk.store.url)
        if info.waiting is not None:
            print(
                f'run {run_id} waits at {info.waiting["name"]!r}: {info.waiting["summary"]}\n'
                f'  podium approve {run_id}   or   podium reject {run_id} --reason "..."',
                file=sys.stderr,
            )
            return


def _paused_store(db: str | None) -> SQLiteRunStore | None:
    """The store of paused runs `--db` names, when it names one (a file of paused runs, not a DBOS run store)."""
    if db is None:
        return None
    path = Path(db.removeprefix('sqlite:///'))
    return SQLiteRunStore(path) if is_run_store(path) else None


def _decide_any(args: argparse.Namespace, *, approved: bool) -> int:
    """Record the decision with a paused run (its resume uses it), or send it to a waiting durable run."""
    store = _paused_store(args.db)
    if store is None:
        return _needs_dbos(_approve if approved else _reject)(args)
    decision = (
        Approve(reviewer=args.by, reason=args.reason) if approved else Reject(reason=args.reason, reviewer=args.by)
    )
    store.decide(args.run_id, decision)
    print(
        f'{"approved" if approved else "rejected"} {args.run_id}; it continues when its workflow resumes it: '
        f'await workflow.resume({args.run_id!r}, store=SQLiteRunStore({str(store.path)!r}))'
    )
    return 0


def _runs(args: argparse.Namespace) -> int:
    paused = _paused_store(args.db)
    if paused is not None:
        waiting = paused.waiting()
        if not waiting:
            print('no paused runs')
        for run in waiting:
            print(f'{run.token}  {run.workflow}  waiting at {run.step!r}: {run.summary}')
        return 0
    return _needs_dbos(_durable_runs)(args)


def _durable_runs(args: argparse.Namespace) -> int:
    from ..durable import list_runs

    runs = list_runs(args.db, limit=args.limit)
    if not runs:
        print('no durable runs')
        return 0
    rows = [('RUN', 'WORKFLOW', 'STATE', 'STEP', 'REQUESTS', 'TOKENS', 'CREATED')]
    for info in runs:
        tokens = info.usage['input_tokens'] + info.usage['output_tokens']
        created = info.created_at.strftime('%Y-%m-%d %H:%M:%S') if info.created_at else ''
        step = info.step or ''
        rows.append((info.run_id, info.workflow, info.state, step, str(info.usage['requests']), str(tokens), created))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print('  '.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _show(args: argparse.Namespace) -> int:
    from ..durable import show_run

    info = show_run(args.run_id, args.db)
    if args.json:
        print(json.dumps(to_jsonable_python(info), indent=2))
        return 0
    _print_info(info)
    return 0


def _print_info(info: RunInfo) -> None:
    usage = info.usage
    print(f'run {info.run_id}  workflow {info.workflow}  state {info.state}')
    print(f'usage so far: {usage["requests"]} requests, {usage["input_tokens"]} in / {usage["output_tokens"]} out')
    if info.waiting is not None:
        print(f'waiting at {info.waiting["name"]!r}: {info.waiting["summary"]}')
    if info.error:
        print(f'error: {info.error}')
    print('checkpoints:')
    for checkpoint in info.checkpoints:
        line = f'  {checkpoint.number:>3} {checkpoint.kind:<8} {checkpoint.step}'
        if checkpoint.kind in ('choice', 'decision'):
            line += f' -> {json.dumps(checkpoint.output)}'
        if checkpoint.error:
            line += f'  ({checkpoint.error})'
        print(line)
        for record in checkpoint.records:
            print(f'        {record["name"]} [{record["kind"]}]: {record["status"]} {json.dumps(record.get("output"))}')
    if info.summary is not None:
        print('step records:')
        steps = info.summary.get('steps')
        for entry in steps if isinstance(steps, list) else []:
            assert isinstance(entry, dict)
            route = f' -> {entry["route"]}' if 'route' in entry else ''
            print(f'  {entry["name"]} [{entry["kind"]}]{route}: {entry["status"]}')
        print(f'output: {json.dumps(info.summary.get("output"))}')


def _approve(args: argparse.Namespace) -> int:
    from ..durable import approve

    approve(args.run_id, db=args.db, reviewer=args.by, reason=args.reason)
    print(f'approved {args.run_id}')
    return 0


def _reject(args: argparse.Namespace) -> int:
    from ..durable import reject

    reject(args.run_id, db=args.db, reviewer=args.by, reason=args.reason)
    print(f'rejected {args.run_id}')
    return 0


def _worker(args: argparse.Namespace) -> int:
    desk = _load(args)
    print(f'worker {args.worker_id or "local"} serving {desk.queue_name} on {desk.store.display}', file=sys.stderr)
    try:
        anyio.run(functools.partial(desk.serve, worker_id=args.worker_id))
    except KeyboardInterrupt:
        pass
    finally:
        desk.shutdown()
    return 0
