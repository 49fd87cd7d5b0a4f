"""The input of `podium run`: text for a workflow that takes text, JSON validated against its input type otherwise."""

from __future__ import annotations

from pydantic import BaseModel, PydanticSchemaGenerationError, TypeAdapter, ValidationError

from .._core._errors import UsageError
from .._core._step import AnyStep

__all__ = ('parse_input',)


def parse_input(workflow: AnyStep, text: str) -> object:
    """`text` as the value `workflow` takes, or a `UsageError` saying what it takes.

    The input is checked here, before the run, so a typo in the JSON is a usage error (exit 2) and not a failed
    run whose first step got the wrong type.
    """
    cls = workflow.input_class
    if not text.strip():
        takes = 'text' if cls is None or issubclass(str, cls) else f'{cls.__qualname__} as JSON'
        raise UsageError(f'the input is empty; workflow {workflow.name!r} takes {takes}')
    if cls is None or issubclass(str, cls):
        return text
    try:
        adapter: TypeAdapter[object] = TypeAdapter(cls)
    except PydanticSchemaGenerationError as exc:
        raise UsageError(
            f'workflow {workflow.name!r} takes {cls.__qualname__}, which cannot be built from command-line JSON; '
            'run it from Python'
        ) from exc
    try:
        return adapter.validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = '.'.join(map(str, first['loc']))
        more = f' (and {exc.error_count() - 1} more)' if exc.error_count() > 1 else ''
        raise UsageError(
            f'the input does not fit {cls.__qualname__}: {where + ": " if where else ""}{first["msg"]}{more}; '
            f'workflow {workflow.name!r} takes {_shape(cls)}'
        ) from exc


def _shape(cls: type[object]) -> str:
    """What to pass, for the message: the fields of a model, the class otherwise."""
    if issubclass(cls, BaseModel):
        fields = ', '.join(
            f'"{name}"' + ('' if info.is_required() else ' (optional)') for name, info in cls.model_fields.items()
        )
        return f'a JSON object with the fields {fields}' if fields else 'a JSON object'
    return f'{cls.__qualname__} as JSON'
