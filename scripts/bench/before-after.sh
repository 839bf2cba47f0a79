#!/usr/bin/env bash
# A change's cost, measured in one run: this checkout's nbox beside another
# built checkout of nbox (BASE, e.g. a `git worktree` of main) and beside the
# peer, on `run --rm busybox true` (podman) and a 5-step build uncached and
# cached (buildah):
#   sudo scripts/bench/before-after.sh /path/to/base-checkout
# Needs root, hyperfine, podman, runc and buildah (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE="$(cd "${1:?usage: before-after.sh BASE_CHECKOUT}" && pwd)"
. scripts/bench/lib.sh
RUNS="${RUNS:-30}"
BUILD_RUNS="${BUILD_RUNS:-10}"
bench_tools hyperfine podman runc buildah
bench_workdir ba
bench_busybox_tar
bench_seed_peers
bench_five

NEW="$PWD/dist/src/cli/main.js"
OLD="$BASE/dist/src/cli/main.js"
NBOX_ROOT="$work/new" $NEW import "$work/bb.tar" bb:latest >/dev/null
NBOX_ROOT="$work/old" $OLD import "$work/bb.tar" bb:latest >/dev/null

bench() { # name, runs, new command, old command, peer name, peer command
  hyperfine --warmup 2 --runs "$2" -N --export-json "$work/$1.json" -n new "$3" -n base "$4" -n "$5" "$6" >/dev/null
  node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const [n, b, p] = r.map((x) => x.median * 1000);
console.log(`${process.argv[2].padEnd(16)} new ${n.toFixed(1).padStart(7)} ms  base ${b.toFixed(1).padStart(7)} ms  new/base ${(n / b).toFixed(3)}  ${r[2].command} ${p.toFixed(1).padStart(7)} ms  new/peer ${(n / p).toFixed(2)}`);
' "$work/$1.json" "$1"
}

bench run-rm "$RUNS" "env NBOX_ROOT=$work/new $NEW run --rm bb true" "env NBOX_ROOT=$work/old $OLD run --rm bb true" \
  podman "$PODMAN_RUN localhost/bb true"
bench build-uncached "$BUILD_RUNS" \
  "env NBOX_ROOT=$work/new $NEW build --no-cache -q -f $work/five/Dockerfile.nbox $work/five" \
  "env NBOX_ROOT=$work/old $OLD build --no-cache -q -f $work/five/Dockerfile.nbox $work/five" \
  buildah "$BUILDAH build --isolation chroot --layers --no-cache -q -f $work/five/Dockerfile $work/five"
bench build-cached "$BUILD_RUNS" \
  "env NBOX_ROOT=$work/new $NEW build -q -f $work/five/Dockerfile.nbox $work/five" \
  "env NBOX_ROOT=$work/old $OLD build -q -f $work/five/Dockerfile.nbox $work/five" \
  buildah "$BUILDAH build --isolation chroot --layers -q -f $work/five/Dockerfile $work/five"
