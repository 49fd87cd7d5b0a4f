"""`podium serve`: a workflow over HTTP, on uvicorn (`pip install 'podium[serve]'`)."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import TYPE_CHECKING

import uvicorn

from .._core._errors import UsageError
from ..serve import DEFAULT_MAX_BODY_BYTES, app
from ._load import load_step
from ._parser import add_command, positive_int

if TYPE_CHECKING:
    from ._parser import Commands

__all__ = ('add_commands',)


def add_commands(commands: Commands) -> None:
    """Register `podium serve`."""
    parser = add_command(
        commands,
        'serve',
        help='serve a workflow over HTTP: run, stream, AG-UI, Vercel AI, a live page and OpenAPI',
        description='Serve a workflow over HTTP until stopped (Ctrl-C). POST /run returns the output and the run '
        'summary as JSON, POST /stream streams the run as server-sent events, POST /ag-ui and POST /vercel-ai '
        'stream it to chat frontends, GET / is a page that runs it and shows its steps live, GET /openapi.json '
        "describes the endpoints with the workflow's input and output types.",
    )
    parser.add_argument('workflow', help='path/to/file.py:attr or package.module:attr')
    parser.add_argument('--host', default='127.0.0.1', help='the address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=8000, help='the port; 0 picks a free one (default 8000)')
    parser.add_argument(
        '--max-body-bytes',
        type=positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar='N',
        help=f'refuse request bodies larger than N bytes with 413 (default {DEFAULT_MAX_BODY_BYTES})',
    )
    parser.add_argument('--no-access-log', action='store_true', help="don't log a line per request")
    parser.set_defaults(handler=_serve)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a taken port is a one-line usage error rather than uvicorn's exit."""
    if not 0 <= port <= 65535:
        raise UsageError(f'--port must be between 0 and 65535, got {port}')
    sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f'cannot listen on {host}:{port}: {exc.strerror or exc}') from exc
    return sock


def _serve(args: argparse.Namespace) -> int:
    workflow = load_step(args.workflow)
    served = app(workflow, max_body_bytes=args.max_body_bytes)
    sock = _listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    where = f'[{host}]' if ':' in host else host
    print(f'serving {workflow.name!r} on http://{where}:{port}/ (the page; API at /openapi.json)', file=sys.stderr)
    sys.stderr.flush()
    config = uvicorn.Config(served, log_level='info', access_log=not args.no_access_log)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
