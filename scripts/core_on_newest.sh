#!/usr/bin/env bash
# The core tests (`pytest --core`: every test that needs none of pydantic-evals, DBOS or Postgres) on the newest
# pydantic-ai-slim the package index has, in .venv-newest: plain `pip install podium` must take any release from the
# lower bound up, and the lean path must match the newest release (or step aside, which the lean tests would show).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m venv .venv-newest
venv=.venv-newest/bin
"$venv/pip" install --quiet --upgrade -e '.[openai,anthropic,test]' 'pydantic-ai-slim[openai,anthropic]'
if "$venv/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pydantic_evals") is None)'; then
    echo 'core_on_newest: pydantic-evals is installed in .venv-newest; the core must run without it' >&2
    exit 1
fi
"$venv/python" -c 'import importlib.metadata as m; print("core tests on pydantic-ai-slim", m.version("pydantic-ai-slim"))'
status=0
"$venv/python" -m pytest --core -q || status=$?
if [ "$status" -eq 5 ]; then
    echo 'core_on_newest: pytest collected no core tests' >&2
    exit 1
fi
exit "$status"
