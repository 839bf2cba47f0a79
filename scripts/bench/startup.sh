#!/usr/bin/env bash
# The CLI's own start (issue 11 §7), side by side in one run, with the goals:
#   nbox run --rm --network none bb true  <= 1.5x `node -e 0`, <= 0.6x podman's (same flags)
#   cached 5-step nbox build              <= 0.5x buildah's
#   sudo scripts/bench/startup.sh [BASE_CHECKOUT]
# With BASE_CHECKOUT (another built checkout of nbox, e.g. a `git worktree` of
# main) its nbox runs in the same rounds, for before/after. Commands run in
# turn (interleave.js), so load on this shared machine falls on all alike;
# medians, with the load average before and after. Needs root, podman, runc, buildah.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-40}"
BUILD_RUNS="${BUILD_RUNS:-20}"
BASE=""
[ $# -gt 0 ] && BASE="$(cd "$1" && pwd)"
bench_tools podman runc buildah
bench_workdir startup
bench_busybox_tar
bench_seed_peers
bench_five

NEW="$PWD/dist/src/cli/main.js"
NBOX_ROOT="$work/new" $NEW import "$work/bb.tar" bb:latest >/dev/null
run=(node="NODE_EXTRA_CA_CERTS= node -e 0" new="NBOX_ROOT=$work/new $NEW run --rm --network none bb true")
build=(new="NBOX_ROOT=$work/new $NEW build -q -f $work/five/Dockerfile.nbox $work/five")
if [ -n "$BASE" ]; then
  OLD="$BASE/dist/src/cli/main.js"
  NBOX_ROOT="$work/old" $OLD import "$work/bb.tar" bb:latest >/dev/null
  run+=(base="NBOX_ROOT=$work/old $OLD run --rm --network none bb true")
  build+=(base="NBOX_ROOT=$work/old $OLD build -q -f $work/five/Dockerfile.nbox $work/five")
fi
run+=(podman="$PODMAN_RUN localhost/bb true")
build+=(buildah="$BUILDAH build --isolation chroot --layers -q -f $work/five/Dockerfile $work/five")

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs per start command, $BUILD_RUNS per build"
# Warm-up rounds fill the build caches.
node scripts/bench/interleave.js "$RUNS" 3 "${run[@]}" > "$work/run.json"
node scripts/bench/interleave.js "$BUILD_RUNS" 2 "${build[@]}" > "$work/build.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

node -e '
const [run, build] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")));
const row = (name, r) => console.log(`${name.padEnd(14)} median ${r.median.toFixed(1).padStart(7)} ms  min ${r.min.toFixed(1).padStart(7)}  p90 ${r.p90.toFixed(1).padStart(7)}  cpu ${r.cpu.toFixed(0).padStart(4)} ms`);
for (const [k, v] of Object.entries(run)) row(k === "node" ? "node -e 0" : `${k} run`, v);
for (const [k, v] of Object.entries(build)) row(`${k} build`, v);
const ratio = (a, b, goal, what) => console.log(`${what.padEnd(22)} ${(a.median / b.median).toFixed(2)}  (goal <= ${goal})`);
for (const nbox of ["new", "base"].filter((k) => run[k])) {
  ratio(run[nbox], run.node, 1.5, `${nbox} run / node`);
  ratio(run[nbox], run.podman, 0.6, `${nbox} run / podman`);
  ratio(build[nbox], build.buildah, 0.5, `${nbox} build / buildah`);
}
if (run.base) console.log(`new/base: run ${(run.new.median / run.base.median).toFixed(3)}, build ${(build.new.median / build.base.median).toFixed(3)}`);
' "$work/run.json" "$work/build.json"
