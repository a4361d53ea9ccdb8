#!/usr/bin/env bash
# What the console's browser tests need besides Python packages: Debian's chromium (driven by the Python
# `playwright` package of the test extra through its executable path; `playwright install` is never run).
# Idempotent and quick when already installed; a machine where it cannot be installed makes those tests skip
# with the reason printed.
set -uo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser-deps: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" \
       "the browser tests will skip" >&2
  exit 0
fi
echo "== browser-deps: installing Debian chromium"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q chromium >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1 || true
  apt-get install -y -q chromium >/dev/null 2>&1 \
    || echo "browser-deps: apt-get install chromium failed; the browser tests will skip" >&2
fi
exit 0
