#!/usr/bin/env bash
# Runs the whole suite in one ava run (unit tests need no root; integration
# tests run for real as root) and ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# DESIGN's import arrows first: a slip fails here, before the suite runs.
npx depcruise src --config .dependency-cruiser.cjs || exit 1
npx ava 'dist/test/unit/**/*.test.js' 'dist/test/integration/**/*.test.js' "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# ava prints a passed count only when nothing failed: count its marks instead.
passed=$(grep -c '✔' "$log")
failed=$(grep '✘' "$log" | sort -u | wc -l)
skipped=$(grep -c '\[skip\]' "$log")
echo "ava: $passed passed, $failed failed, $skipped skipped"
exit "$status"
