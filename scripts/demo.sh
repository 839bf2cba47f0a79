#!/usr/bin/env bash
# The main job: seed the base images made on this machine (busybox from
# busybox-static, debian:bookworm from debootstrap) and run containers from them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/seed-images.sh busybox debian
nbox images
nbox run --rm busybox sh -c 'echo "Hello from busybox: pid $$ on $(hostname) as $(id -un)"'
nbox run --rm -u nobody -w /tmp debian:bookworm sh -c '. /etc/os-release; echo "Hello from $PRETTY_NAME, as $(id -un) in $(pwd)"'
