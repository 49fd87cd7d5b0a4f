"""Load the object a command names, as `path/to/file.py:attr` or `package.module:attr`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .._core._errors import LoadError
from .._core._redact import describe
from .._core._step import Step

__all__ = ('load_object', 'load_step')


def load_object(reference: str) -> object:
    """Import the module or file of `reference` and return its attribute (dotted attributes allowed)."""
    target, sep, attr = reference.rpartition(':')
    if not sep or not target or not attr:
        raise LoadError(f'{reference!r} is not of the form path/to/file.py:attr or package.module:attr')
    try:
        module = _import_file(target) if target.endswith('.py') or '/' in target else _import_module(target)
    except LoadError:
        raise
    except SyntaxError as exc:
        where = f'{exc.filename}, line {exc.lineno}' if exc.filename else repr(target)
        raise LoadError(f'syntax error in {where}: {exc.msg}; fix the file') from exc
    except ImportError as exc:  # the module's own message names what is missing
        raise LoadError(str(exc)) from exc
    except (Exception, SystemExit) as exc:  # the module raised, or exited, while it was imported
        raise LoadError(f'importing {target!r} failed: {describe(exc)}; fix the module (--debug shows where)') from exc
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
        raise LoadError(f'{reference!r} is of type {type(value).__name__}, not a podium Step; name the workflow object')
    return value  # pyright: ignore[reportUnknownVariableType]


def _import_module(target: str) -> ModuleType:
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name is None or not f'{target}.'.startswith(
            f'{exc.name}.'
        ):  # a module it imports is missing, not the target
            raise
        raise LoadError(f'cannot import module {target!r}: {exc}; check the name and sys.path') from exc


def _import_file(target: str) -> ModuleType:
    path = Path(target)
    if not path.is_file():
        raise LoadError(f'no file {target!r}')
    module_name = f'_podium_loaded_{path.stem}'
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f'cannot import {target!r}')
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pydantic look the module up while it executes
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]  # no half-imported module for the next load to find
        raise
    finally:
        sys.path.remove(folder)
    return module
