#!/usr/bin/env bash
# Runs with volumes, nbox beside podman in one run:
#   run --rm -v NAME:/data bb true       (a named volume, made once)
#   run --rm vbb true                    (an image VOLUME: anonymous volume, copy-up of 100 files, removal)
# Needs root, hyperfine and podman (installed here if missing). Private stores under a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-20}"
bench_tools hyperfine podman runc
bench_workdir volumes
export NBOX_ROOT="$work/nbox"
NBOX="$PWD/dist/src/cli/main.js"

bench_busybox_tar
mkdir -p "$work/rootfs/data"
for i in $(seq 1 100); do echo "file $i" > "$work/rootfs/data/f$i"; done
tar -C "$work/rootfs" -cf "$work/vbb.tar" .
$NBOX import "$work/bb.tar" bb >/dev/null
$NBOX import -c 'VOLUME /data' "$work/vbb.tar" vbb >/dev/null
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null
$PODMAN import --change 'VOLUME /data' "$work/vbb.tar" localhost/vbb:latest >/dev/null
$NBOX volume create benchvol >/dev/null
$PODMAN volume create benchvol >/dev/null

hyperfine --warmup 3 --runs "$RUNS" --export-json "$work/volumes.json" -N \
  -n nbox-named "$NBOX run --rm -v benchvol:/data bb true" \
  -n podman-named "$PODMAN_RUN -v benchvol:/data localhost/bb true" \
  -n nbox-image-volume "$NBOX run --rm vbb true" \
  -n podman-image-volume "$PODMAN_RUN localhost/vbb true" >/dev/null
$PODMAN volume rm -f benchvol >/dev/null

node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const med = Object.fromEntries(r.map((x) => [x.command, x.median * 1000]));
for (const [k, v] of Object.entries(med)) console.log(`${k.padEnd(20)} median ${v.toFixed(1)} ms`);
for (const kind of ["named", "image-volume"]) console.log(`${kind.padEnd(13)} nbox/podman ratio ${(med["nbox-" + kind] / med["podman-" + kind]).toFixed(2)}`);
' "$work/volumes.json"
