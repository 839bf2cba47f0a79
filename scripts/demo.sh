#!/usr/bin/env bash
# The main job: seed the base images made on this machine (busybox from
# busybox-static, debian:bookworm from debootstrap), build the docker-whale
# image from scripts/docker-whale/Dockerfile and run it: a cow says a fortune.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/seed-images.sh busybox debian
nbox build -t docker-whale scripts/docker-whale
nbox run --rm docker-whale
