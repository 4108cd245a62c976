#!/usr/bin/env bash
# Idempotent setup shared by `make run` and `make test`: each step is skipped when its stamp is current.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

stamp_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# 1. Python virtual environment with the pinned dependencies of pyproject.toml.
py_stamp="$VENV/.stamp-$(stamp_of pyproject.toml)"
if [ ! -f "$py_stamp" ]; then
  echo "==> Python environment (.venv)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip 2>/dev/null || true
  "$VENV/bin/pip" install --quiet -e ".[test]"
  rm -f "$VENV"/.stamp-* && touch "$py_stamp"
fi

# 2. bun, the JavaScript runtime Reflex builds with, pinned, from the npm registry, inside the project.
if [ ! -x "$TOOLS/bin/bun" ] || ! "$TOOLS/bin/bun" --version 2>/dev/null | grep -qx "$BUN_VERSION"; then
  echo "==> bun $BUN_VERSION (.tools)"
  mkdir -p "$TOOLS/bin"
  npm install --silent --no-save --no-package-lock --prefix "$TOOLS" "bun@$BUN_VERSION" >/dev/null
  ln -sf "$TOOLS/node_modules/bun/bin/bun.exe" "$TOOLS/bin/bun"
fi

# 3. Database schema (Alembic) and the demo catalogue (idempotent seed).
python -m storefront migrate
python -m storefront seed
