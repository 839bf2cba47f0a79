#!/usr/bin/env bash
# The Docker Engine API (issue 14: create + start + wait + remove through the
# socket <= 0.2x podman's service), side by side in one run: `nbox serve` and
# `podman system service`, each on a socket of its own, a busybox `true` per
# round, rounds alternating between them (engine-api.js).
#   sudo scripts/bench/engine.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-30}"
bench_tools podman runc
bench_workdir engine
bench_busybox_tar
bench_seed_peers

NBOX="$PWD/dist/src/cli/main.js"
export NBOX_ROOT="$work/nbox"
$NBOX import "$work/bb.tar" bb:latest >/dev/null
$NBOX serve --socket "$work/nbox.sock" 2>/dev/null &
nbox_server=$!
$PODMAN system service --time=0 "unix://$work/podman.sock" 2>/dev/null &
podman_server=$!
stop_all() {
  kill "$nbox_server" "$podman_server" 2>/dev/null || true
  wait "$nbox_server" "$podman_server" 2>/dev/null || true
  bench_cleanup
}
trap stop_all EXIT
until [ -S "$work/nbox.sock" ] && [ -S "$work/podman.sock" ]; do sleep 0.1; done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS rounds"
node scripts/bench/engine-api.js "$RUNS" nbox="$work/nbox.sock:bb" podman="$work/podman.sock:localhost/bb" > "$work/engine.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const r = require(process.argv[1]);
for (const [name, x] of Object.entries(r)) console.log(`${name.padEnd(8)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}`);
console.log(`nbox / podman service  ${(r.nbox.median / r.podman.median).toFixed(2)}  (goal <= 0.2)`);
' "$work/engine.json"
