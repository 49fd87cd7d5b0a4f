"""Serve a workflow over HTTP: `podium serve file.py:workflow`, or `app(workflow)` to mount in an ASGI app.

`POST /run` returns the typed output and the run's summary, `POST /stream` streams the run's events as server-sent
events, `POST /ag-ui` and `POST /vercel-ai` stream it to chat frontends in those protocols (through Pydantic-AI's
own `pydantic_ai.ui` encoders), `GET /` is a page that shows the run's steps live, and `GET /openapi.json` describes
it all with the workflow's own types. `pip install 'podium[serve]'` brings Starlette, uvicorn and the AG-UI types;
the rest of podium never imports them.
"""

try:
    import ag_ui  # noqa: F401  # pyright: ignore[reportUnusedImport]
    import starlette  # noqa: F401  # pyright: ignore[reportUnusedImport]
except ImportError as _missing:
    raise ImportError(
        f"podium.serve needs Starlette and the AG-UI types ({_missing.name} is missing): pip install 'podium[serve]'"
    ) from _missing

from ._app import DEFAULT_MAX_BODY_BYTES, app

__all__ = ('DEFAULT_MAX_BODY_BYTES', 'app')
