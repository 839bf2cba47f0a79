#!/bin/bash
# restore() of a 100 MB writable layer (issue 14: <= 50 ms) beside podman's nearest equivalent: podman has
# no checkpoint here (no CRIU), so a reset is `podman rm -f` + `podman run -d` of an image holding the data
# (the container committed), and, for reference, `podman restart -t 0` (which keeps the files: no reset).
#   scripts/bench/snapshot.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
rounds=${1:-20}
# As lib.sh's PODMAN_RUN: this sandbox refuses podman's raised default limits.
LIMITS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
bench_workdir snapshot
bench_busybox_tar
bench_seed_peers
bench_nbox

nbox_json=$(node scripts/bench/snapshot-restore.js "$NBOX_ROOT" bb "$rounds")
nbox_ms=$(node -e 'console.log(JSON.parse(process.argv[1]).medianMs)' "$nbox_json")

# podman: the seeded state as an image (what a reset must return to), then rm -f + run -d per reset.
seed=$($PODMAN run -d $LIMITS --network none localhost/bb sh -c 'dd if=/dev/urandom of=/data bs=1M count=100 2>/dev/null; sleep 100000')
until $PODMAN exec "$seed" sh -c 'test "$(stat -c %s /data)" = 104857600' 2>/dev/null; do sleep 0.2; done
$PODMAN commit -q "$seed" localhost/seeded >/dev/null
$PODMAN rm -f -t 0 "$seed" >/dev/null
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int(NR / 2) + 1] }'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
$PODMAN run -d $LIMITS --name db -p 80 localhost/seeded sleep 100000 >/dev/null
recreate=$(for _ in $(seq "$rounds"); do
  ms sh -c "$PODMAN rm -f -t 0 db && $PODMAN run -d $LIMITS --name db -p 80 localhost/seeded sleep 100000"
done | median)
restart=$(for _ in $(seq "$rounds"); do ms $PODMAN restart -t 0 db; done | median)
$PODMAN rm -f -t 0 db >/dev/null

echo "nbox restore() of a 100 MB layer: ${nbox_json}"
echo "podman rm -f + run -d (reset):    median ${recreate} ms"
echo "podman restart -t 0 (no reset):   median ${restart} ms"
node -e 'const [n, r, s] = process.argv.slice(1).map(Number); console.log(`ratio nbox/podman-recreate: ${(n / r).toFixed(3)}  nbox/podman-restart: ${(n / s).toFixed(3)}`)' "$nbox_ms" "$recreate" "$restart"
