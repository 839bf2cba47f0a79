#!/usr/bin/env bash
# The bridge network (issue 13), nbox beside podman on its default (netavark) network:
#   1. `run --rm busybox true` on the default network        (goal <= 0.5x podman)
#   2. `run -d -p PORT:80 busybox httpd` until 127.0.0.1:PORT answers (goal <= 0.5x podman)
# plus `run --rm --network none` of each, for what the network costs.
#   sudo scripts/bench/network.sh
# Needs root, podman and runc (installed if missing); private stores, removed at the end.
# BEFORE=DIR adds DIR/dist/src/cli/main.js (another build of nbox) to the rounds as "before".
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-20}"
bench_tools podman runc
bench_workdir network
bench_busybox_tar

bench_nbox
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null 2>&1
PODMAN_LIMITS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

before_run=()
before_publish=()
if [ -n "${BEFORE:-}" ]; then
  before_run=(before="$BEFORE/dist/src/cli/main.js run --rm bb true")
  before_publish=(before=18482="$BEFORE/dist/src/cli/main.js run bb")
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"
node scripts/bench/interleave.js "$RUNS" 3 \
  nbox="$NBOX run --rm bb true" "${before_run[@]}" \
  podman="$PODMAN run --rm $PODMAN_LIMITS localhost/bb true" \
  nbox-none="$NBOX run --rm --network none bb true" \
  podman-none="$PODMAN run --rm --network none $PODMAN_LIMITS localhost/bb true" > "$work/run.json"
node scripts/bench/publish.js "$RUNS" \
  nbox=18480="$NBOX run bb" "${before_publish[@]}" \
  podman=18481="$PODMAN run $PODMAN_LIMITS localhost/bb" > "$work/publish.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const run = require(process.argv[1]);
const publish = require(process.argv[2]);
for (const [name, x] of Object.entries(run)) console.log(`run --rm true  ${name.padEnd(12)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}`);
for (const [name, x] of Object.entries(publish)) console.log(`-p until curl  ${name.padEnd(12)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}`);
console.log(`run --rm true, default network: nbox / podman ${(run.nbox.median / run.podman.median).toFixed(2)}  (goal <= 0.5)`);
console.log(`run -d -p until it answers:     nbox / podman ${(publish.nbox.median / publish.podman.median).toFixed(2)}  (goal <= 0.5)`);
if (run.before) console.log(`before: run --rm ${(run.before.median / run.podman.median).toFixed(2)}, -p until it answers ${(publish.before.median / publish.podman.median).toFixed(2)}`);
' "$work/run.json" "$work/publish.json"
