#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, then exits; the README's
# test command runs it before `cargo test`. Each step is skipped when what it
# installs is already there and up to date, so a second run takes a second.
#
#   - the wasm32-wasip2 target (the tests build the rooms they serve)
#   - Debian's Chromium and an emoji font (the demo page's browser test);
#     set CHROMIUM to use another Chromium instead
#   - the Node packages of the client tests (tests/node) and of the JS SDK's
#     build command (guest-sdk/js), from their lock files
#   - componentize-py, pinned, in guest-sdk/python/.venv (the Python room)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "== setup: $*"; }

step "wasm32-wasip2 target"
rustup target add wasm32-wasip2

if [[ -n "${CHROMIUM:-}" ]]; then
  step "Chromium from CHROMIUM=$CHROMIUM"
elif ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then
  step "Debian's chromium and fonts-noto-color-emoji"
  # playwright's own browser download does not run here; Debian's does.
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || {
      echo "installing chromium needs root: run as root, install Debian's chromium and" \
        "fonts-noto-color-emoji yourself, or set CHROMIUM to a Chromium binary" >&2
      exit 1
    }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    chromium fonts-noto-color-emoji >/dev/null
fi

# Runs `npm ci` in $1 unless its node_modules matches its lock file.
npm_ci() {
  local dir=$1
  if [[ -f "$dir/node_modules/.package-lock.json" &&
        "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
    return
  fi
  step "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund)
}
npm_ci tests/node
npm_ci guest-sdk/js

venv=guest-sdk/python/.venv
requirements=guest-sdk/python/requirements.txt
if [[ ! -x "$venv/bin/python" || ! -f "$venv/.installed" || "$requirements" -nt "$venv/.installed" ]]; then
  step "componentize-py in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$requirements"
  touch "$venv/.installed"
fi
echo "== setup: done"
