#!/usr/bin/env bash
# Runs before `npm test`: the board's end-to-end test drives Debian's Chromium, never a downloaded
# browser. Installs it with apt-get when it is missing (this needs root, as on the CI machines);
# elsewhere, says what to install.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the board's browser test…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "No Chromium at $CHROMIUM: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH." >&2
exit 1
