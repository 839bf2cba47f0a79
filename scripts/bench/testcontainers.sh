#!/usr/bin/env bash
# testcontainers-node (issue 14: a GenericContainer with a port and a log wait
# against nbox's socket <= 0.3x the same against podman's service), side by side
# in one run: `nbox serve` and `podman system service` on sockets of their own,
# batches alternating between them (testcontainers.js), start-to-ready and
# start-to-removed medians.
#   sudo scripts/bench/testcontainers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-10}"
BATCHES="${BATCHES:-3}"
bench_tools podman runc
bench_workdir tc
bench_busybox_tar
# Only podman runs here: no buildah seed.
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null
bench_nbox

$NBOX serve --socket "$work/nbox.sock" 2>/dev/null &
nbox_server=$!
$PODMAN system service --time=0 "unix://$work/podman.sock" 2>/dev/null &
podman_server=$!
stop_all() {
  kill "$nbox_server" "$podman_server" 2>/dev/null || true
  wait "$nbox_server" "$podman_server" 2>/dev/null || true
  bench_remove_all
}
trap stop_all EXIT
until [ -S "$work/nbox.sock" ] && [ -S "$work/podman.sock" ]; do sleep 0.1; done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $BATCHES batches of $RUNS each"
for batch in $(seq "$BATCHES"); do
  DOCKER_HOST="unix://$work/nbox.sock" node scripts/bench/testcontainers.js "$RUNS" bb >> "$work/nbox.json"
  DOCKER_HOST="unix://$work/podman.sock" node scripts/bench/testcontainers.js "$RUNS" localhost/bb >> "$work/podman.json"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const fs = require("node:fs");
const read = (file) => fs.readFileSync(file, "utf8").trim().split("\n").flatMap((line) => JSON.parse(line));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r = { nbox: read(process.argv[1]), podman: read(process.argv[2]) };
for (const [name, xs] of Object.entries(r)) {
  console.log(`${name.padEnd(7)} ready median ${median(xs.map((x) => x.ready)).toFixed(1).padStart(7)} ms   start-to-removed median ${median(xs.map((x) => x.total)).toFixed(1).padStart(7)} ms  (${xs.length} runs)`);
}
const ratio = (key) => (median(r.nbox.map((x) => x[key])) / median(r.podman.map((x) => x[key]))).toFixed(2);
console.log(`nbox / podman service  ready ${ratio("ready")}  start-to-removed ${ratio("total")}  (goal <= 0.3)`);
' "$work/nbox.json" "$work/podman.json"
