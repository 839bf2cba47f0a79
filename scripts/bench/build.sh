#!/usr/bin/env bash
# Build speed, nbox beside buildah in one run (both on the same filesystem):
#   5-step busybox build uncached and cached (CLI, and in-process through the
#   library API), a RUN writing 200 MB, a COPY of 20,000 small files. Goals: <= 0.7x / 0.5x, <= 0.4x, <= 0.5x of buildah.
# Needs root; installs hyperfine and buildah if missing. Private stores under
# a temp dir, removed at the end. Deletes happen outside timed runs (ext4 here
# is slow to create files right after mass deletes: see peer-figures.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${RUNS:-5}"
for tool in hyperfine buildah; do
  command -v "$tool" >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine buildah; }
done

work="$(mktemp -d /var/tmp/nbox-bench-build.XXXXXX)"
BUILDAH="buildah --root $work/buildah --runroot $work/buildah-run --storage-driver overlay"
cleanup() {
  $BUILDAH rm -a >/dev/null 2>&1 || true
  $BUILDAH rmi -a -f >/dev/null 2>&1 || true
  awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount
  rm -rf "$work"
}
trap cleanup EXIT

NBOX="$PWD/dist/src/cli/main.js"
export NBOX_ROOT="$work/nbox"
rootfs="$work/rootfs"; mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
tar -C "$rootfs" -cf "$work/bb.tar" .
$NBOX import "$work/bb.tar" bb:latest >/dev/null
# buildah has no import: ADD the same tarball (extracted) into a scratch container.
seed=$($BUILDAH from scratch)
$BUILDAH add "$seed" "$work/bb.tar" / >/dev/null
$BUILDAH commit -q "$seed" localhost/bb:latest >/dev/null
$BUILDAH rm "$seed" >/dev/null

# One context per benchmark; Dockerfile names the base as each tool knows it.
dockerfiles() { # dir, body after FROM
  printf 'FROM localhost/bb\n%b' "$2" > "$1/Dockerfile"
  printf 'FROM bb\n%b' "$2" > "$1/Dockerfile.nbox"
}
mkdir -p "$work/five" "$work/big" "$work/many"
echo small > "$work/five/small.txt"
dockerfiles "$work/five" 'ENV A=1\nWORKDIR /w\nRUN echo hi > /w/f\nCOPY small.txt /w/\nCMD ["sh"]\n'
dockerfiles "$work/big" 'RUN for i in $(seq 2000); do head -c 102400 /dev/urandom > /f$i; done\n'
for d in $(seq 20); do mkdir -p "$work/many/ctx/d$d"; for f in $(seq 1000); do head -c 4000 /dev/urandom > "$work/many/ctx/d$d/f$f"; done; done
dockerfiles "$work/many" 'COPY ctx /ctx\n'

bench() { # name, hyperfine args...
  local name=$1; shift
  hyperfine --export-json "$work/$name.json" "$@" >/dev/null
  node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const [a, b] = r.map((x) => x.median * 1000);
console.log(`${process.argv[2].padEnd(22)} nbox ${a.toFixed(0).padStart(6)} ms  buildah ${b.toFixed(0).padStart(6)} ms  ratio ${(a / b).toFixed(2)}`);
' "$work/$name.json" "$name"
}

bench five-uncached --runs "$RUNS" -N \
  -n nbox "$NBOX build --no-cache -q -f $work/five/Dockerfile.nbox $work/five" \
  -n buildah "$BUILDAH build --isolation chroot --layers --no-cache -q -f $work/five/Dockerfile $work/five"
bench five-cached --runs "$RUNS" -N \
  -n nbox "$NBOX build -q -f $work/five/Dockerfile.nbox $work/five" \
  -n buildah "$BUILDAH build --isolation chroot --layers -q -f $work/five/Dockerfile $work/five"
# The same cached build through the library API, in-process (a harness's cost).
node scripts/bench/api-build.js "$NBOX_ROOT" "$work/five" "$work/five/Dockerfile.nbox" 50 > "$work/api-build.json"
node -e '
const api = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const buildah = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8")).results[1].median * 1000;
console.log(`${"five-cached (API)".padEnd(22)} nbox ${api.medianMs.toFixed(0).padStart(6)} ms  buildah ${buildah.toFixed(0).padStart(6)} ms  ratio ${(api.medianMs / buildah).toFixed(2)}`);
' "$work/api-build.json" "$work/five-cached.json"
bench run-200mb --runs 3 -N \
  -n nbox "$NBOX build --no-cache -q -f $work/big/Dockerfile.nbox $work/big" \
  -n buildah "$BUILDAH build --isolation chroot --layers --no-cache -q -f $work/big/Dockerfile $work/big"
bench copy-20k --runs 3 -N \
  -n nbox "$NBOX build --no-cache -q -f $work/many/Dockerfile.nbox $work/many" \
  -n buildah "$BUILDAH build --isolation chroot --layers --no-cache -q -f $work/many/Dockerfile $work/many"
