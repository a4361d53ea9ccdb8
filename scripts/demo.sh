#!/usr/bin/env bash
# The main job on the embedded SQLite default: set-up, then the end-to-end demo in ./demo-out/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
mkdir -p demo-out
exec .venv/bin/classic2arm --db "sqlite:///$root/demo-out/classic2arm.db" demo "$@"
