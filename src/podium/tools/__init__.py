"""Steps and workflows as Pydantic-AI tools."""

from ._as_tool import as_tool

__all__ = ('as_tool',)
