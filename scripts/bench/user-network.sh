#!/usr/bin/env bash
# User networks (issue 14's `network()`), nbox beside podman (netavark) on a network of each's own:
#   1. `run --rm busybox true` on the user network
#   2. `run --rm busybox ping -c1 srv`: a container reaching a running one by name (podman with NET_RAW, which
#      Docker and nbox give by default)
#   sudo scripts/bench/user-network.sh
# Needs root, podman and runc (installed if missing); private stores and networks, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-20}"
bench_tools podman runc
bench_workdir user-network
bench_busybox_tar

bench_nbox
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null 2>&1
PODMAN_LIMITS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
remove_networks() {
  $PODMAN rm -af -t 0 >/dev/null 2>&1 || true
  $NBOX ps -aq 2>/dev/null | xargs -r $NBOX rm -f >/dev/null 2>&1 || true
  $NBOX network rm benchnet >/dev/null 2>&1 || true
  $PODMAN network rm -f benchnet >/dev/null 2>&1 || true
  bench_remove_all
}
trap remove_networks EXIT
$NBOX network create benchnet >/dev/null
$PODMAN network create benchnet >/dev/null
$NBOX run -d --name srv --network benchnet bb sleep 3600 >/dev/null
$PODMAN run -d --name srv --network benchnet $PODMAN_LIMITS localhost/bb sleep 3600 >/dev/null

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"
node scripts/bench/interleave.js "$RUNS" 3 \
  nbox="$NBOX run --rm --network benchnet bb true" \
  podman="$PODMAN run --rm --network benchnet $PODMAN_LIMITS localhost/bb true" \
  nbox-name="$NBOX run --rm --network benchnet bb ping -c1 -W2 srv" \
  podman-name="$PODMAN run --rm --network benchnet --cap-add NET_RAW $PODMAN_LIMITS localhost/bb ping -c1 -W2 srv" > "$work/run.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const run = require(process.argv[1]);
for (const [name, x] of Object.entries(run)) console.log(`${name.padEnd(12)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}`);
console.log(`run --rm true on a user network:  nbox / podman ${(run.nbox.median / run["podman"].median).toFixed(2)}`);
console.log(`run --rm ping by name:            nbox / podman ${(run["nbox-name"].median / run["podman-name"].median).toFixed(2)}`);
' "$work/run.json"
