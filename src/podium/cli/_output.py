"""Files a command writes when its work is done: checked before the work, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType

from .._core._errors import UsageError

__all__ = ('PendingFile',)


class PendingFile:
    """A temporary file beside `path`, renamed onto it by `commit`.

    Creating the temporary file at the start proves the directory is writable before an eval spends its minutes
    and its tokens; the rename at the end means a reader never sees a half-written report, and a run that fails
    leaves the previous file as it was. Leaving the `with` block without `commit` removes the temporary file.
    """

    def __init__(self, path: str, *, option: str) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise UsageError(f'{option} {path!r} is a directory; give a file path')
        try:  # the target's suffix stays last, so a writer that picks the format by extension (matplotlib) still can
            fd, temp = tempfile.mkstemp(
                dir=self.path.parent, prefix=f'.{self.path.name}.', suffix=self.path.suffix or '.tmp'
            )
        except OSError as exc:
            raise UsageError(
                f'cannot write {option} {path!r}: {exc.strerror}; choose a path in an existing, writable directory'
            ) from exc
        os.close(fd)
        self.temp = Path(temp)
        """Where to write the content, before `commit`."""

    def commit(self) -> None:
        """Move the written temporary file onto the path, with the mode a plain `open` would have given it."""
        try:
            mode = self.path.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        self.temp.chmod(mode)
        self.temp.replace(self.path)

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.temp.unlink(missing_ok=True)
