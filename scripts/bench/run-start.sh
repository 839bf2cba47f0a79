#!/usr/bin/env bash
# Start + exit latency of `true`, nbox beside its peers in one run:
#   nbox run --rm busybox true   vs  podman run --rm --network none  vs  node -e 0
# plus the in-process API loop (goal: <= 15 ms median, >= 60 containers/s).
# Needs root, hyperfine and podman (installed here if missing). Uses private
# stores under a temp dir, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${RUNS:-30}"
for tool in hyperfine podman runc; do
  command -v "$tool" >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine podman runc; }
done

work="$(mktemp -d /var/tmp/nbox-bench.XXXXXX)"
# runc, as in the reference figures; this sandbox refuses podman's default
# (raised) nofile/nproc limits, so both get 1024 as runc's example config does.
PODMAN="podman --root $work/podman --runroot $work/podman-run --storage-driver overlay --runtime runc"
PODMAN_RUN="$PODMAN run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
cleanup() {
  $PODMAN rmi -a -f >/dev/null 2>&1 || true
  # podman leaves its storage bind mount behind; it is under our temp dir.
  awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount
  rm -rf "$work"
}
trap cleanup EXIT

export NBOX_ROOT="$work/nbox"
NBOX="$PWD/dist/src/cli/main.js"

# One busybox rootfs tarball, imported into both stores.
NBOX="$NBOX" ./scripts/seed-images.sh busybox >/dev/null
rootfs="$work/rootfs"; mkdir -p "$rootfs/bin"
cp /bin/busybox "$rootfs/bin/"; ln -s busybox "$rootfs/bin/true"; ln -s busybox "$rootfs/bin/sh"
tar -C "$rootfs" -cf "$work/bb.tar" .
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null

hyperfine --warmup 3 --runs "$RUNS" --export-json "$work/start.json" -N \
  -n nbox "$NBOX run --rm busybox true" \
  -n podman "$PODMAN_RUN localhost/bb true" \
  -n node "node -e 0" >/dev/null

node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const med = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
for (const [k, v] of Object.entries(med)) console.log(`${k.padEnd(8)} median ${v.toFixed(1)} ms`);
console.log(`nbox/podman ratio ${(med.nbox / med.podman).toFixed(2)}  (goal <= 0.3 vs podman default network, <= 0.6 vs --network none)`);
console.log(`nbox/node   ratio ${(med.nbox / med.node).toFixed(2)}  (goal <= 1.5)`);
' "$work/start.json"

api="$(node scripts/bench/api-start.js "$NBOX_ROOT" busybox "${API_COUNT:-200}")"
node -e '
const a = JSON.parse(process.argv[1]);
console.log(`api      median ${a.medianMs} ms, p90 ${a.p90Ms} ms, ${a.perSecond} containers/s  (goal <= 15 ms, >= 60/s; runc run ~19.5 ms, 40/s)`);
' "$api"
