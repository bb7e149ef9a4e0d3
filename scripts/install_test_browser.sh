#!/usr/bin/env bash
# Headless Chromium for the digest screenshot tests (tests/alerts/test_digest_rendering.py):
# Debian's `chromium` package, at /usr/bin/chromium. Without it those tests are skipped with
# the reason; under CI=true they fail, so .ci/run calls this script first.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_test_browser.sh: run as root (apt-get install chromium), e.g. sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
chromium --version
