#!/usr/bin/env bash
# What the benchmarks need beyond the test set-up: wrk (Debian package) for bench/bench_http_wrk.py and
# bench/bench_vs_moto.py, and the bench's own environment .bench-venv/ (git-ignored) with moto's server, boto3
# and py-spy for bench/bench_vs_moto.py — kept out of .venv so the project's own environment never carries moto.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq wrk
fi
cd "$root"
py="${PYTHON:-python3}"
if [ ! -x .bench-venv/bin/python ]; then
  "$py" -m venv .bench-venv
fi
# moto 5.x (its own server: `moto_server` / ThreadedMotoServer); boto3 fills it; py-spy profiles either server
reqs="moto[server]>=5,<6 boto3 py-spy"
stamp=.bench-venv/.installed-$(echo "$reqs" | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .bench-venv/bin/python -m pip install -q --upgrade pip
  .bench-venv/bin/python -m pip install -q $reqs
  rm -f .bench-venv/.installed-* && touch "$stamp"
fi
