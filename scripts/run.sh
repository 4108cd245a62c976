#!/usr/bin/env bash
# `make run`: set up what is missing, then serve the production build on one port.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
PORT="${PORT:-3000}"
echo "==> Starting the shop on http://localhost:$PORT"
exec python -m storefront serve --port "$PORT"
