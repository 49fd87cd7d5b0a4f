"""The page at `GET /`: one self-contained HTML file that runs the workflow and draws its steps live.

No build step and nothing fetched from elsewhere: the page posts to `/stream` and draws the step tree as the
events arrive.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files

from pydantic_core import to_json

from .._core._step import AnyStep
from ._input import WorkflowTypes

__all__ = ('render_page',)


@cache
def _template() -> str:
    return files(__package__ or 'podium.serve').joinpath('page.html').read_text(encoding='utf-8')


def render_page(workflow: AnyStep, types: WorkflowTypes, *, title: str) -> str:
    """The page for `workflow`: what it takes decides whether the text box is sent as text or as JSON."""
    config = {
        'title': title,
        'workflow': workflow.name,
        'takes_text': types.takes_text,
        'takes': 'text' if types.takes_text else f'{types.input_name} as JSON',
        'placeholder': 'Type a message' if types.takes_text else f'{types.input_name} as JSON',
    }
    # `<` escaped, so no value can close the script element the configuration sits in.
    data = to_json(config).decode().replace('<', '\\u003c')
    return _template().replace('__TITLE__', html.escape(title)).replace('__CONFIG__', data)
