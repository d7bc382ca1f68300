#!/usr/bin/env bash
# Installs Debian's chromium for the Web UI test (test/integration/web-ui.test.ts), which
# drives the Temporal Web UI headless through playwright-core. Prints the binary's path.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then echo "$CHROMIUM"; exit 0; fi
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo -n"; else
    echo "chromium is not installed and this user cannot install it: run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi
echo "[bqsync] installing chromium (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium >&2
[[ -x "$CHROMIUM" ]] || { echo "apt-get install chromium finished but $CHROMIUM is missing" >&2; exit 1; }
echo "$CHROMIUM"
