"""`podium serve`: a workflow over HTTP, on uvicorn (`pip install 'podium[serve]'`)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from typing import TYPE_CHECKING

from .._core._errors import UsageError
from ..serve import DEFAULT_MAX_BODY_BYTES, app  # without the serve extra, an ImportError saying what to install

try:
    import uvicorn
    from starlette.applications import Starlette
    from uvicorn.supervisors import Multiprocess
except ImportError as _missing:  # the command stays listed, and says what to install when run
    raise ImportError(
        f"podium serve needs uvicorn ({_missing.name} is missing): pip install 'podium[serve]'"
    ) from _missing
from ._load import load_step
from ._parser import add_command, positive_int

if TYPE_CHECKING:
    from ._parser import Commands

__all__ = ('add_commands', 'worker_app')

_WORKER_ENV = 'PODIUM_SERVE_WORKER'
"""How `--workers` tells each worker process what to serve: JSON of the workflow reference and the options."""


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
    parser.add_argument(
        '--workers',
        type=positive_int,
        default=1,
        metavar='N',
        help='serve from N processes sharing the port, each loading the workflow (default 1): runs are CPU-bound '
        'Python, so one process uses one core',
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


def worker_app() -> Starlette:
    """The app of one `--workers` process, built from what the command put in its environment."""
    options = json.loads(os.environ[_WORKER_ENV])
    return app(load_step(options['workflow']), max_body_bytes=options['max_body_bytes'])


def _serve(args: argparse.Namespace) -> int:
    workflow = load_step(args.workflow)
    served = app(workflow, max_body_bytes=args.max_body_bytes)  # an unservable workflow stops here, before binding
    sock = _listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    where = f'[{host}]' if ':' in host else host
    workers = f' from {args.workers} processes' if args.workers > 1 else ''
    print(
        f'serving {workflow.name!r} on http://{where}:{port}/{workers} (the page; API at /openapi.json)',
        file=sys.stderr,
    )
    sys.stderr.flush()
    access_log = not args.no_access_log
    if args.workers == 1:
        uvicorn.Server(uvicorn.Config(served, log_level='info', access_log=access_log)).run(sockets=[sock])
        return 0
    # uvicorn's own supervisor starts fresh processes, which cannot be handed an app object: each one imports this
    # module and builds the app from the environment.
    os.environ[_WORKER_ENV] = json.dumps({'workflow': args.workflow, 'max_body_bytes': args.max_body_bytes})
    config = uvicorn.Config(
        f'{__name__}:worker_app', factory=True, workers=args.workers, log_level='info', access_log=access_log
    )
    Multiprocess(config, sockets=[sock]).run()
    return 0
