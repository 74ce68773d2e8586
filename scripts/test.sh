#!/usr/bin/env bash
# The whole suite: drift check, lint, types, tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv

echo "== drift: generated/ against openapi/synap.yaml"
python scripts/generate.py --check
echo "== lint: ruff"
ruff check .
ruff format --check .
echo "== types: mypy --strict"
mypy
echo "== tests: pytest"
python -m pytest "$@"
