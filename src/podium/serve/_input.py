"""What a served workflow takes: its input type as a pydantic `TypeAdapter`, read from the request's JSON."""

from __future__ import annotations

from typing import Any

from pydantic import PydanticSchemaGenerationError, TypeAdapter, ValidationError
from pydantic_core import to_json

from .._core._errors import ConfigurationError
from .._core._step import AnyStep
from ._http import invalid

__all__ = ('WorkflowTypes',)


class WorkflowTypes:
    """The adapters of a workflow's input and output, built once when the app is."""

    def __init__(self, workflow: AnyStep) -> None:
        self.input_class = workflow.input_class
        self.output_class = workflow.output_class
        self.takes_text = self.input_class is not None and issubclass(str, self.input_class)
        self.input_name = self.input_class.__qualname__ if self.input_class is not None else 'JSON'
        try:
            self.input: TypeAdapter[Any] = TypeAdapter(Any if self.input_class is None else self.input_class)
        except PydanticSchemaGenerationError as exc:
            raise ConfigurationError(
                f'workflow {workflow.name!r} takes {self.input_name}, which pydantic cannot read from JSON; serve a '
                'workflow whose input is a pydantic model, a dataclass, a TypedDict or a JSON type'
            ) from exc
        try:
            self.output: TypeAdapter[Any] | None = None if self.output_class is None else TypeAdapter(self.output_class)
        except PydanticSchemaGenerationError:
            self.output = None  # the output is still sent, as pydantic serialises it; only its schema is unknown

    def parse(self, body: bytes) -> object:
        """The input a request's JSON body stands for, or a 422 `Problem` naming the field that does not fit."""
        try:
            return self.input.validate_json(body)
        except ValidationError as exc:
            what = f'{self.input_name} (send a JSON string)' if self.takes_text else self.input_name
            raise invalid(exc, what) from exc

    def parse_text(self, text: str) -> object:
        """The input a chat message stands for: the text itself, or JSON of the input type.

        A workflow whose input type is unknown gets the message's JSON when it is JSON, else the text itself.
        """
        if self.takes_text:
            return text
        if self.input_class is None:
            try:
                return self.input.validate_json(text)
            except ValidationError:
                return text
        return self.parse(text.encode())

    def input_schema(self) -> dict[str, Any]:
        return self.input.json_schema()

    def output_text(self, output: object) -> str:
        """The output as a chat message shows it: text as it is, anything else as JSON."""
        if isinstance(output, str):
            return output
        return to_json(output, indent=2, fallback=repr).decode()
