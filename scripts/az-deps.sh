#!/usr/bin/env bash
# The real Azure CLI (PyPI azure-cli) for tests/api/arm/test_az_cli.py, in its own environment .az-venv/
# (git-ignored): azure-cli pins hundreds of azure-mgmt-* versions that must not mix with the project's .venv.
# Idempotent and fast once installed; a failed install is not fatal (the test then skips, saying why).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
reqs="azure-cli>=2.60"
stamp=.az-venv/.installed-$(echo "$reqs" | sha1sum | cut -c1-12)
if [ -f "$stamp" ] && [ -x .az-venv/bin/az ]; then
  exit 0
fi
if [ ! -x .az-venv/bin/python ]; then
  "$py" -m venv .az-venv || { echo "az-deps: could not create .az-venv" >&2; exit 0; }
fi
if .az-venv/bin/python -m pip install -q --upgrade pip && .az-venv/bin/python -m pip install -q $reqs; then
  rm -f .az-venv/.installed-* && touch "$stamp"
else
  echo "az-deps: pip install $reqs failed; tests/api/arm/test_az_cli.py will skip" >&2
fi
exit 0
