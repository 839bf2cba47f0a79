#!/usr/bin/env bash
# Registry transfer speed, nbox beside its peers in one run, against Debian's
# docker-registry on 127.0.0.1 (no auth, HTTP, filesystem storage):
#   pull of a 200 MB image (one layer of incompressible data on busybox):
#     nbox pull into a fresh store  vs  skopeo copy docker://… oci:DIR  vs  podman pull into a fresh store
#   push of the same image to a registry wiped before each run:
#     nbox push (its gzip blob kept from an earlier push, as nbox keeps it)
#     nbox push cold (kept blobs deleted first: compression included)  vs  podman push
# Goals (issue 5): pull <= 1.0x skopeo and faster than podman; push <= 1.0x podman.
# Needs root; installs hyperfine, podman, skopeo and docker-registry if missing.
# Private stores and registries under a temp dir; registries stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${RUNS:-5}"
SIZE_MB="${SIZE_MB:-200}"
for tool in hyperfine podman skopeo docker-registry; do
  command -v "$tool" >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine podman skopeo docker-registry; }
done

work="$(mktemp -d /var/tmp/nbox-bench-registry.XXXXXX)"
REGISTRY_PIDS=()
PODMAN_IMG="podman --root $work/podman --runroot $work/podman-run --storage-driver overlay"
unmount_under() { # podman leaves its storage bind mount behind; only ours, under $1
  awk -v w="$1" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount
}
cleanup() {
  for pid in "${REGISTRY_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  $PODMAN_IMG rmi -a -f >/dev/null 2>&1 || true
  unmount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# start_registry NAME: a registry with storage under $work/NAME; sets REGISTRY (host:port).
start_registry() {
  local dir="$work/$1" port
  mkdir -p "$dir"
  port="$(free_port)"
  # JSON is YAML. No blob-descriptor cache, so wiping the storage empties the registry.
  printf '{"version":"0.1","log":{"level":"error","accesslog":{"disabled":true}},"storage":{"filesystem":{"rootdirectory":"%s"}},"http":{"addr":"127.0.0.1:%s","secret":"bench"}}\n' \
    "$dir/storage" "$port" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" 2>"$dir/log" &
  REGISTRY_PIDS+=("$!")
  REGISTRY="127.0.0.1:$port"
  for _ in $(seq 100); do
    curl -fs "http://$REGISTRY/v2/" >/dev/null && return
    sleep 0.1
  done
  echo "registry did not start: $(cat "$dir/log")" >&2
  exit 1
}
start_registry pull-registry
PULL_REG="$REGISTRY"
start_registry push-registry
PUSH_REG="$REGISTRY"

NBOX="$PWD/dist/src/cli/main.js"
export NBOX_AUTH_FILE="$work/auth.json" # never ~/.docker
export NBOX_ROOT="$work/nbox"

# The image: busybox (seeded into this store) plus one layer of incompressible data.
NBOX="$NBOX" ./scripts/seed-images.sh busybox >/dev/null
mkdir -p "$work/ctx"
printf 'FROM busybox\nRUN head -c %d /dev/urandom > /big\n' "$((SIZE_MB * 1000 * 1000))" >"$work/ctx/Dockerfile"
$NBOX build -q -t bench:v1 "$work/ctx" >/dev/null
$NBOX tag bench:v1 "$PULL_REG/bench/img:v1"
$NBOX push -q "$PULL_REG/bench/img:v1" >/dev/null
$NBOX tag bench:v1 "$PUSH_REG/bench/nbox:v1"
$NBOX save -o "$work/bench.tar" bench:v1
$PODMAN_IMG load -q -i "$work/bench.tar" >/dev/null
rm "$work/bench.tar"
gzip_mb="$(curl -fs -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$PULL_REG/v2/bench/img/manifests/v1" |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log((JSON.parse(s).layers.reduce((n, l) => n + l.size, 0) / 1e6).toFixed(1)))')"
echo "image: busybox + ${SIZE_MB} MB of /dev/urandom, ${gzip_mb} MB compressed; $RUNS runs each"

bench() { # name, hyperfine args...
  local name=$1; shift
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$work/$name.json" "$@" >/dev/null
}

# Pull: each run into a fresh, empty destination (podman's runroot must stay under 50 characters).
bench pull \
  --prepare "rm -rf $work/pull-nbox" \
  --prepare "rm -rf $work/pull-oci" \
  --prepare "awk -v w=$work/pp 'index(\$2, w) == 1 { print \$2 }' /proc/mounts | sort -r | xargs -r umount; rm -rf $work/pp $work/pp-run" \
  -n nbox "$NBOX --root $work/pull-nbox pull -q $PULL_REG/bench/img:v1" \
  -n skopeo "skopeo copy --quiet --src-tls-verify=false docker://$PULL_REG/bench/img:v1 oci:$work/pull-oci:latest" \
  -n podman "podman --root $work/pp --runroot $work/pp-run --storage-driver overlay pull -q --tls-verify=false $PULL_REG/bench/img:v1"

# Push: the registry is wiped before each run, so every layer goes up.
wipe="rm -rf $work/push-registry/storage"
layers="$NBOX_ROOT/layers"
bench push \
  --prepare "$wipe" \
  --prepare "$wipe; rm -f $layers/*/layer.tar.gz $layers/*/gzip.json $layers/*/sources.json" \
  --prepare "$wipe" \
  -n nbox "$NBOX push -q $PUSH_REG/bench/nbox:v1" \
  -n nbox-cold "$NBOX push -q $PUSH_REG/bench/nbox:v1" \
  -n podman "$PODMAN_IMG push -q --tls-verify=false docker.io/library/bench:v1 docker://$PUSH_REG/bench/podman:v1"

node -e '
const fs = require("fs");
const median = (file) => Object.fromEntries(JSON.parse(fs.readFileSync(file, "utf8")).results.map((r) => [r.command, r]));
const pull = median(process.argv[1]);
const push = median(process.argv[2]);
const row = (op, r) => console.log(`${op.padEnd(5)} ${r.command.padEnd(10)} median ${r.median.toFixed(2).padStart(6)} s  (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})`);
for (const r of Object.values(pull)) row("pull", r);
for (const r of Object.values(push)) row("push", r);
const ratio = (a, b) => (a.median / b.median).toFixed(2);
console.log(`pull nbox/skopeo      ${ratio(pull.nbox, pull.skopeo)}  (goal <= 1.0)`);
console.log(`pull nbox/podman      ${ratio(pull.nbox, pull.podman)}  (goal < 1.0)`);
console.log(`push nbox/podman      ${ratio(push.nbox, push.podman)}  (goal <= 1.0; gzip blob kept from an earlier push)`);
console.log(`push nbox-cold/podman ${ratio(push["nbox-cold"], push.podman)}  (compression included, as podman)`);
' "$work/pull.json" "$work/push.json"
