#!/usr/bin/env bash
# `make test`: every test (unit, integration, end-to-end). Installs Debian's chromium if it is missing.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
if [ ! -x /usr/bin/chromium ]; then
  echo "==> Installing Debian chromium"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
lint-imports
exec python -m pytest "$@"
