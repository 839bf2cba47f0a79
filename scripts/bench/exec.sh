#!/usr/bin/env bash
# `exec CONTAINER true` (issue 12: <= 0.5x podman exec), side by side in one
# run: a busybox container runs `sleep` in each tool, and both exec `true` into
# it in interleaved rounds (interleave.js: medians and CPU time).
#   sudo scripts/bench/exec.sh
# Needs root, podman and runc. The nbox container is run by a background nbox
# process (there is no -d yet), killed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-40}"
bench_tools podman runc
bench_workdir exec
bench_busybox_tar
bench_seed_peers

NBOX="$PWD/dist/src/cli/main.js"
export NBOX_ROOT="$work/nbox"
$NBOX import "$work/bb.tar" bb:latest >/dev/null
$NBOX run --rm --name bench-exec bb sleep 600 &
runner=$!
stop_all() {
  $PODMAN rm -f -t 0 bench-exec >/dev/null 2>&1 || true
  # The init (sleep, PID 1) ignores SIGTERM: kill it, and its nbox returns.
  $NBOX kill bench-exec >/dev/null 2>&1 || kill -KILL "$runner" 2>/dev/null || true
  wait "$runner" 2>/dev/null || true
  bench_cleanup
}
trap stop_all EXIT
$PODMAN run -d --name bench-exec --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb sleep 600 >/dev/null
until $NBOX exec bench-exec true 2>/dev/null; do sleep 0.1; done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"
# node: Node's own start (`node -e 0`), the floor under any nbox verb, in the same rounds.
node scripts/bench/interleave.js "$RUNS" 3 nbox="$NBOX exec bench-exec true" podman="$PODMAN exec bench-exec true" node="NODE_EXTRA_CA_CERTS= node -e 0" > "$work/exec.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const r = require(process.argv[1]);
for (const [name, x] of Object.entries(r)) console.log(`${name.padEnd(8)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}  cpu ${x.cpu.toFixed(0)} ms`);
console.log(`nbox exec / podman exec  ${(r.nbox.median / r.podman.median).toFixed(2)}  (goal <= 0.5)`);
console.log(`node -e 0 / podman exec  ${(r.node.median / r.podman.median).toFixed(2)}  (the floor of that ratio)`);
' "$work/exec.json"
