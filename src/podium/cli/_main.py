"""The `podium` command: run a workflow, draw it, evaluate it, serve it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic_core import to_jsonable_python

from .._core._errors import UsageError, WorkflowError
from ._errors import EPILOG, fail
from ._graph import to_mermaid
from ._input import parse_input
from ._load import load_step
from ._parser import HelpFormatter, Parser, add_command

if TYPE_CHECKING:
    from ._parser import Commands

__all__ = ('main',)

Command = Callable[[argparse.Namespace], int]


def _run(args: argparse.Namespace) -> int:
    workflow = load_step(args.workflow)
    input_value = parse_input(workflow, args.input)
    try:
        result = workflow.run_sync(input_value)
    except WorkflowError as exc:
        code = fail(exc, debug=getattr(args, 'debug', False))
        for record in exc.records:
            print(f'  {record.name}: {record.status}' + (f' ({record.error})' if record.error else ''), file=sys.stderr)
        return code
    if args.json:
        print(json.dumps(result.summary(), indent=2))
        return 0
    for record in result.steps:
        extra = f' -> {record.route}' if record.route else ''
        print(f'{record.name} [{record.kind}]{extra}: {record.status}')
    print(json.dumps(to_jsonable_python(result.output, fallback=repr), indent=2))
    usage = result.usage
    print(
        f'status: {result.status}; usage: {usage.requests} requests, '
        f'{usage.input_tokens} in / {usage.output_tokens} out'
    )
    return 0


def _graph(args: argparse.Namespace) -> int:
    print(to_mermaid(load_step(args.workflow)))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog='podium',
        description='Run, draw, evaluate and serve podium workflows.',
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    commands = parser.add_subparsers(dest='command', required=True)

    run = add_command(commands, 'run', help='run a workflow on one input and print the result')
    run.add_argument('workflow', help='path/to/file.py:attr or package.module:attr')
    run.add_argument(
        'input', help='the input: text, or JSON when the workflow takes another type (checked against that type)'
    )
    run.add_argument('--json', action='store_true', help='print the run summary as JSON')
    run.set_defaults(handler=_run)

    graph = add_command(commands, 'graph', help='print a Mermaid diagram of a workflow')
    graph.add_argument('workflow', help='path/to/file.py:attr or package.module:attr')
    graph.set_defaults(handler=_graph)

    _add_optional_commands(commands)
    return parser


def _add_optional_commands(commands: Commands) -> None:
    """Commands whose modules pull in more (evals, durable runs, serving), registered when present."""
    import importlib

    for module_name in ('._eval', '._durable', '._serve'):
        try:
            module = importlib.import_module(module_name, __package__)
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name.startswith(__package__ or 'podium'):
                continue
            raise
        except ImportError as exc:  # its extra is missing: the command is still there, and says what to install
            _needs_extra(commands, module_name.lstrip('._'), exc)
            continue
        module.add_commands(commands)


def _needs_extra(
    commands: Commands,
    name: str,
    missing: ImportError,
) -> None:
    """Register `name` as a command that takes any arguments and fails with `missing`, which names the extra."""
    # No option prefix: whatever options the real command takes are arguments here, and all end in `missing`.
    parser = commands.add_parser(name, help=f'needs an extra: {missing}', add_help=False, prefix_chars='\0')
    parser.add_argument('arguments', nargs=argparse.REMAINDER)

    def fail(args: argparse.Namespace) -> int:
        raise missing

    parser.set_defaults(handler=fail)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `podium` console script: run a command and return its exit code.

    Every error ends as one line on stderr and an exit code (listed in `podium --help`), never a traceback unless
    `--debug` is given.
    """
    try:
        args = _parser().parse_args(argv)
    except UsageError as exc:
        return fail(exc, debug=False)
    except SystemExit as exc:  # --help printed the help
        return exc.code if isinstance(exc.code, int) else 0
    handler: Command = args.handler
    try:
        return handler(args)
    except BaseException as exc:  # the one place every error becomes a line and an exit code
        return fail(exc, debug=getattr(args, 'debug', False))
