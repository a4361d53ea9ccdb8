#!/usr/bin/env bash
# The whole test suite: set-up, lint, type check, tests (SQLite and a throwaway PostgreSQL the tests start).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
bash scripts/browser-deps.sh  # Debian chromium for the console's browser tests (tests/console)
bash scripts/az-deps.sh  # the real az CLI for tests/api/arm/test_az_cli.py (skips if it cannot be installed)
bash scripts/xplat-deps.sh  # the classic xplat CLI for tests/api/asm/test_xplat_cli.py (skipped without npm)
echo "== ruff"
.venv/bin/ruff check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$rc"
