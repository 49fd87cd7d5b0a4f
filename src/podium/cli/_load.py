"""Load the object a command names, as `path/to/file.py:attr` or `package.module:attr`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

__all__ = ('LoadError', 'load_object', 'load_step')

from .._core._step import Step


class LoadError(Exception):
    """Raised when a `file.py:attr` or `module:attr` reference cannot be loaded; the message says why."""


def load_object(reference: str) -> object:
    """Import the module or file of `reference` and return its attribute (dotted attributes allowed)."""
    target, sep, attr = reference.rpartition(':')
    if not sep or not target or not attr:
        raise LoadError(f'{reference!r} is not of the form path/to/file.py:attr or package.module:attr')
    if target.endswith('.py') or '/' in target:
        path = Path(target)
        if not path.is_file():
            raise LoadError(f'no file {target!r}')
        module_name = f'_podium_loaded_{path.stem}'
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise LoadError(f'cannot import {target!r}')
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pydantic look the module up while it executes
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.resolve().parent))
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise LoadError(f'cannot import module {target!r}: {exc}') from exc
    value: object = module
    for part in attr.split('.'):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise LoadError(f'{target!r} has no attribute {attr!r}') from None
    return value


def load_step(reference: str) -> Step[object, object]:
    """Like `load_object`, but the object must be a podium `Step`."""
    value = load_object(reference)
    if not isinstance(value, Step):
        raise LoadError(f'{reference!r} is a {type(value).__name__}, not a podium Step')
    return value  # pyright: ignore[reportUnknownVariableType]
