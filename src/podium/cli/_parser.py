"""The argument parser of every `podium` command: one-line usage errors and `--debug`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, NoReturn

from .._core._errors import UsageError
from ._errors import EPILOG

__all__ = ('HelpFormatter', 'Parser', 'add_command', 'positive_int')

if TYPE_CHECKING:
    from typing import TypeAlias

    Commands: TypeAlias = 'argparse._SubParsersAction[Parser]'  # pyright: ignore[reportPrivateUsage]


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are `UsageError`s, printed in one line like every other error.

    argparse would print the whole usage block and exit the process; `main` returns the code instead, so it can be
    called in-process.
    """

    def error(self, message: str) -> NoReturn:
        """Raise the usage error naming the command, and where to read its arguments."""
        raise UsageError(f'{self.prog}: {message} (see {self.prog} --help)')


class HelpFormatter(argparse.HelpFormatter):
    """Wraps one-line descriptions to the terminal, keeps text laid out in lines (the exit codes) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if '\n' in text:
            return ''.join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


_COMMON = Parser(add_help=False)
"""The options of every command, as a parent parser."""
_COMMON.add_argument(
    '--debug',
    action='store_true',
    default=argparse.SUPPRESS,  # set only when given, so `podium runs --debug show ID` keeps it
    help='on an error, print the traceback before the one-line message',
)


def positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def add_command(commands: Commands, name: str, **kwargs: Any) -> Parser:
    """A subcommand with `--debug` and the exit codes in its help."""
    return commands.add_parser(name, parents=[_COMMON], epilog=EPILOG, formatter_class=HelpFormatter, **kwargs)
