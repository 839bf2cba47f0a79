#!/usr/bin/env bash
# `logs` of a container that wrote 100 MB (issue 12: <= 0.5x podman logs), in
# interleaved rounds (interleave.js: medians and CPU time), output to /dev/null.
#   sudo scripts/bench/logs.sh
# podman's container writes its lines for real (conmon, k8s-file: podman's
# "json-file"). nbox has no -d monitor writing logs yet: the bench writes the
# same lines into a container record's json-file log, as moby's driver does.
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

NBOX="node -- $PWD/dist/src/cli/main.js"
export NBOX_ROOT="$work/nbox"
$NBOX import "$work/bb.tar" bb:latest >/dev/null
$NBOX run --name bench-logs bb true
dir="$NBOX_ROOT/containers/$($NBOX inspect -f '{{.Id}}' bench-logs)"
LINE='the quick brown fox jumps over the lazy dog, one log line of the benchmark container'
node -e '
const { openSync, writeSync, closeSync } = require("node:fs");
const [path, count, text] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
const fd = openSync(path, "w");
const start = Date.parse("2026-01-01T00:00:00Z");
let chunk = "";
for (let i = 0; i < count; i++) {
  const ns = String(i % 1000000).padStart(6, "0") + "123";
  const time = new Date(start + Math.floor(i / 1000000) * 1000).toISOString().slice(0, 19) + "." + ns + "Z";
  chunk += JSON.stringify({ log: `${i} ${text}\n`, stream: "stdout", time }) + "\n";
  if (chunk.length > 1 << 20) { writeSync(fd, chunk); chunk = ""; }
}
writeSync(fd, chunk);
closeSync(fd);
' "$dir/$(basename "$dir")-json.log" "$LINES" "$LINE"

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
