#!/usr/bin/env bash
# What the benchmarks need beyond the test set-up: wrk (Debian package) for bench/bench_http_wrk.py.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq wrk
fi
