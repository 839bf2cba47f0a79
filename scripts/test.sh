#!/usr/bin/env bash
# Runs the whole suite in one ava run (unit tests need no root; integration
# tests run for real as root) and ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
npx ava 'dist/test/unit/**/*.test.js' 'dist/test/integration/**/*.test.js' "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
count() { grep -Eo "^ *[0-9]+ (tests?|known failures?) $1" "$log" | grep -Eo '[0-9]+' | head -n1 || true; }
passed=$(count passed)
failed=$(count failed)
skipped=$(count skipped)
# ava prints "N tests passed" alone when all pass, or with failures "N tests failed".
echo "ava: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
