"""The `podium` command line."""

from ._main import main

__all__ = ('console_main', 'main')


def console_main() -> None:
    """The console script: exit with `main`'s status."""
    import sys

    sys.exit(main())
