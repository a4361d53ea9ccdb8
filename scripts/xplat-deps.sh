#!/usr/bin/env bash
# The real classic cross-platform CLI (npm azure-cli 0.10.20, the `azure` command) for the black-box test
# tests/api/asm/test_xplat_cli.py. Idempotent: does nothing when .xplat/ already holds that version.
# psl and underscore are pinned through npm overrides: their newer releases break the CLI's loader.
# Without node/npm it prints why and exits 0 (the test then skips, saying so).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.xplat"
want="0.10.20"
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "xplat-deps: node/npm not installed: the classic xplat CLI test will be skipped" >&2
  exit 0
fi
have="$(node -e "try{console.log(require('$dir/node_modules/azure-cli/package.json').version)}catch(e){}" 2>/dev/null || true)"
if [ "$have" = "$want" ] && [ -x "$dir/node_modules/.bin/azure" ]; then
  exit 0
fi
mkdir -p "$dir"
cat > "$dir/package.json" <<JSON
{"name": "classic2arm-xplat", "private": true,
 "dependencies": {"azure-cli": "$want"},
 "overrides": {"psl": "1.8.0", "underscore": "1.8.3"}}
JSON
echo "xplat-deps: installing azure-cli@$want into $dir"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
node -e "require('$dir/node_modules/azure-cli/package.json')" >/dev/null
