#!/usr/bin/env bash
# `logs` of a container that wrote 100 MB (issue 12: <= 0.5x podman logs), in
# interleaved rounds (interleave.js: medians and CPU time), output to /dev/null.
#   sudo scripts/bench/logs.sh
# Both containers write the same lines for real: nbox's monitor in Docker's
# json-file format, podman's conmon in k8s-file (podman's "json-file").
# Needs root, podman and runc; LINES sets the number of lines (100 MB: 1.1 M).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-10}"
LINES="${LINES:-1100000}"
bench_tools podman runc
bench_workdir logs
bench_busybox_tar
bench_seed_peers

NBOX="$PWD/dist/src/cli/main.js"
export NBOX_ROOT="$work/nbox"
$NBOX import "$work/bb.tar" bb:latest >/dev/null
LINE='the quick brown fox jumps over the lazy dog, one log line of the benchmark container'
# Each container writes its lines for real, through its monitor (nbox's json-file, podman's conmon k8s-file).
$NBOX run -d --name bench-logs bb awk -v n="$LINES" -v text="$LINE" 'BEGIN { for (i = 0; i < n; i++) print i " " text }' >/dev/null
$NBOX wait bench-logs >/dev/null
dir="$NBOX_ROOT/containers/$($NBOX inspect -f '{{.Id}}' bench-logs)"

$PODMAN run -d --name bench-logs --log-driver k8s-file --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb \
  awk -v n="$LINES" -v text="$LINE" 'BEGIN { for (i = 0; i < n; i++) print i " " text }' >/dev/null
$PODMAN wait bench-logs >/dev/null
podman_log="$($PODMAN inspect -f '{{.HostConfig.LogConfig.Path}}' bench-logs)"
echo "log sizes: nbox $(stat -c %s "$dir/$(basename "$dir")-json.log") bytes (json-file), podman $(stat -c %s "$podman_log") bytes (k8s-file)"
# Both print the same lines (all on stdout: interleave.js keeps a command's stderr in memory).
cmp <($NBOX logs bench-logs | md5sum) <($PODMAN logs bench-logs | md5sum) >/dev/null || echo "warning: the two outputs differ"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"
node scripts/bench/interleave.js "$RUNS" 1 nbox="$NBOX logs bench-logs" podman="$PODMAN logs bench-logs" \
  nbox-tail="$NBOX logs --tail 10 bench-logs" podman-tail="$PODMAN logs --tail 10 bench-logs" > "$work/logs.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const r = require(process.argv[1]);
for (const [name, x] of Object.entries(r)) console.log(`${name.padEnd(12)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}  cpu ${x.cpu.toFixed(0)} ms`);
console.log(`nbox logs / podman logs            ${(r.nbox.median / r.podman.median).toFixed(2)}  (goal <= 0.5)`);
console.log(`nbox logs --tail 10 / podman logs --tail 10 ${(r["nbox-tail"].median / r["podman-tail"].median).toFixed(2)}`);
' "$work/logs.json"
