#!/usr/bin/env bash
# `run -d busybox sleep` until the ID is printed (issue 12: <= 0.5x podman),
# nbox beside `podman run -d --network none` in interleaved rounds
# (interleave.js: medians and CPU time), then what one nbox-monitor keeps per
# running container: its VmRSS (smaps_rollup) and the sealed nbox-exec memfd,
# beside the RSS of the conmon podman keeps per container.
#   sudo scripts/bench/run-detach.sh
# Needs root, podman and runc (installed if missing). Containers run `sleep 2`
# with --rm, so they end on their own; what is left is removed at the end.
# Where podman cannot run containers (some sandboxes), nbox is timed alone.
# BEFORE=DIR adds DIR/dist/src/cli/main.js (another build of nbox) to the
# rounds as "before", for a before/after ratio from the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-40}"
bench_tools podman runc
bench_workdir run-detach
bench_busybox_tar

bench_nbox

# Both without a network, as the goal names podman's: NETWORK=bridge times nbox's default network instead.
tools=(nbox="$NBOX run -d --rm --network ${NETWORK:-none} bb sleep 2")
[ -z "${BEFORE:-}" ] || tools+=(before="$BEFORE/dist/src/cli/main.js run -d --rm --network ${NETWORK:-none} bb sleep 2")
# node: Node's own start (`node -e 0`, without NODE_EXTRA_CA_CERTS as nbox starts it), the floor under any nbox verb, in the same rounds.
tools+=(node="NODE_EXTRA_CA_CERTS= node -e 0")
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null 2>&1 || true
if podman_error=$($PODMAN run -d --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb true 2>&1); then
  tools+=(podman="$PODMAN run -d --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb sleep 2")
else
  echo "podman cannot run containers here, timing nbox alone: $(echo "$podman_error" | tail -1)"
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"
node scripts/bench/interleave.js "$RUNS" 3 "${tools[@]}" > "$work/run-detach.json"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const r = require(process.argv[1]);
for (const [name, x] of Object.entries(r)) console.log(`${name.padEnd(8)} median ${x.median.toFixed(1).padStart(7)} ms  min ${x.min.toFixed(1).padStart(7)}  cpu ${x.cpu.toFixed(0)} ms`);
if (r.podman) console.log(`nbox run -d / podman run -d  ${(r.nbox.median / r.podman.median).toFixed(2)}  (goal <= 0.5)`);
if (r.podman && r.before) console.log(`before / podman run -d       ${(r.before.median / r.podman.median).toFixed(2)}`);
if (r.podman) console.log(`node -e 0 / podman run -d    ${(r.node.median / r.podman.median).toFixed(2)}  (the floor of that ratio)`);
' "$work/run-detach.json"

# One running container: its monitor's memory.
id=$($NBOX run -d bb sleep 600)
monitor=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).owner.pid)' "$NBOX_ROOT/containers/$id/state.json")
rss=$(awk '/^Rss:/ { print $2 }' "/proc/$monitor/smaps_rollup")
anon=$(awk '/^Anonymous:/ { print $2 }' "/proc/$monitor/smaps_rollup")
memfd=$(( $(stat -L -c %s "/proc/$monitor/fd/4") / 1024 ))
echo "nbox-monitor VmRSS ${rss} kB (anonymous ${anon} kB); sealed nbox-exec memfd ${memfd} kB; per container ${rss} + ${memfd} = $((rss + memfd)) kB"
$NBOX rm -f "$id" >/dev/null

# The peer: conmon, what podman keeps alive per running container.
if pid=$($PODMAN run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb sleep 600 2>/dev/null); then
  conmon=$($PODMAN inspect --format '{{.State.ConmonPid}}' "$pid")
  conmon_rss=$(awk '/^Rss:/ { print $2 }' "/proc/$conmon/smaps_rollup")
  $PODMAN rm -f -t 0 "$pid" >/dev/null
  echo "conmon VmRSS ${conmon_rss} kB; nbox per container / conmon  $(node -e "console.log(($((rss + memfd)) / $conmon_rss).toFixed(2))")  (goal <= 1)"
fi
