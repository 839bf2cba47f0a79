#!/usr/bin/env bash
# The library's run() to ready (issue 14: busybox, sequentially, <= 10 ms
# median and >= 100 containers/s; runc alone takes about 20 ms on an idle
# host), side by side in one run: `runc run` of a busybox bundle to its line,
# then nbox's run() to its log line, foreground (piped stdout) and detached
# (Wait.forLog), both with --network none, and detached on the default bridge
# with a published port, as a harness runs it (run-ready.js).
#   sudo scripts/bench/run-ready.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
COUNT="${COUNT:-50}"
bench_tools runc
bench_workdir ready
bench_busybox_tar
bench_nbox

# runc's bundle: the same rootfs, `sh -c 'echo ready'`, no terminal, runc's example limits.
mkdir -p "$work/bundle/rootfs"
tar -C "$work/bundle/rootfs" -xf "$work/bb.tar"
(cd "$work/bundle" && runc spec && node -e '
const fs = require("node:fs");
const spec = JSON.parse(fs.readFileSync("config.json", "utf8"));
spec.process.terminal = false;
spec.process.args = ["sh", "-c", "echo ready"];
fs.writeFileSync("config.json", JSON.stringify(spec));
')
runc_ms=()
for i in $(seq "$COUNT"); do
  start=$(date +%s%N)
  runc run --bundle "$work/bundle" "nbox-bench-ready-$i" > /dev/null
  runc_ms+=($(( ($(date +%s%N) - start) / 1000 )))
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $COUNT containers each"
node scripts/bench/run-ready.js "$NBOX_ROOT" bb "$COUNT" > "$work/ready.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const fs = require("node:fs");
const runc = process.argv[2].split(" ").map((us) => Number(us) / 1000).sort((a, b) => a - b);
const runcMedian = runc[Math.floor(runc.length / 2)];
console.log(`runc run         to exit  median ${runcMedian.toFixed(1).padStart(7)} ms`);
for (const line of fs.readFileSync(process.argv[1], "utf8").trim().split("\n")) {
  const r = JSON.parse(line);
  console.log(`nbox ${r.mode.padEnd(16)} to ready median ${r.readyMedianMs.toFixed(1).padStart(7)} ms  p90 ${r.readyP90Ms.toFixed(1).padStart(7)}  ${r.perSecond}/s  nbox/runc ${(r.readyMedianMs / runcMedian).toFixed(2)}`);
}
console.log("goal: <= 10 ms median and >= 100 containers/s");
' "$work/ready.json" "${runc_ms[*]}"
