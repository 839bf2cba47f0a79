#!/usr/bin/env bash
# `stats --no-stream` of 10 running busybox containers (issue 13: <= 0.5x podman),
# nbox beside `podman stats --no-stream` of 10 of its own, in interleaved rounds
# (interleave.js: medians and CPU time).
#   sudo scripts/bench/stats.sh
# Needs root, podman and runc (installed if missing). The containers run
# `sleep 600` and are removed at the end. Where podman cannot run containers
# (some sandboxes), nbox is timed alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-20}"
COUNT="${COUNT:-10}"
bench_tools podman runc
bench_workdir stats
bench_busybox_tar

bench_nbox

# Both sides alike: no network, so NET I/O reads nothing on either; and neither
# waits for a second CPU sample: --no-stream's CPU % is over each container's life.
for _ in $(seq "$COUNT"); do $NBOX run -d --network none bb sleep 600 >/dev/null; done
tools=(nbox="$NBOX stats --no-stream")
# node: Node's own start (`node -e 0`), the floor under any nbox verb, in the same rounds.
tools+=(node="NODE_EXTRA_CA_CERTS= node -e 0")
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null 2>&1 || true
if podman_error=$($PODMAN run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb sleep 600 2>&1); then
  for _ in $(seq $((COUNT - 1))); do $PODMAN run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb sleep 600 >/dev/null; done
  tools+=(podman="$PODMAN stats --no-stream")
else
  echo "podman cannot run containers here, timing nbox alone: $(echo "$podman_error" | tail -1)"
fi
echo "nbox stats --no-stream:"; $NBOX stats --no-stream | sed -n 1,3p
[ "${#tools[@]}" -lt 3 ] || { echo "podman stats --no-stream:"; $PODMAN stats --no-stream | sed -n 1,3p; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each, $COUNT containers each"
node scripts/bench/interleave.js "$RUNS" 2 "${tools[@]}" > "$work/stats.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const r = require(process.argv[1]);
for (const [name, x] of Object.entries(r)) console.log(`${name.padEnd(8)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}  cpu ${x.cpu.toFixed(0)} ms`);
if (r.podman) console.log(`nbox stats / podman stats     ${(r.nbox.median / r.podman.median).toFixed(2)}  (goal <= 0.5)`);
if (r.podman) console.log(`node -e 0 / podman stats      ${(r.node.median / r.podman.median).toFixed(2)}  (the floor of that ratio)`);
' "$work/stats.json"
