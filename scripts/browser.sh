#!/usr/bin/env bash
# Debian's headless Chromium and its driver, for the browser test of `podium serve`'s page.
#
#   scripts/browser.sh     install them if missing; print the two paths
#
# Selenium is pointed at these binaries, so its Selenium Manager never downloads a browser or driver of its own.
# Idempotent: nothing is installed when both binaries are already there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [[ ! -x $CHROMIUM || ! -x $DRIVER ]]; then
    echo 'browser.sh: installing chromium and chromium-driver from Debian' >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
fi
[[ -x $CHROMIUM && -x $DRIVER ]] || { echo "browser.sh: $CHROMIUM or $DRIVER is missing after the install" >&2; exit 1; }
echo "$CHROMIUM"
echo "$DRIVER"
