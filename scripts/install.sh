#!/usr/bin/env bash
# Installs what nbox needs on a fresh Debian 12 machine (run as root): the
# system packages, the npm dependencies, the native addon and the TypeScript
# build; then puts `nbox` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# podman, skopeo and docker-registry are the peers the interop and registry tests run
# against (podman with runc, which Debian's podman does not bring); buildah is the
# reference builder of the compare-buildah test (run as root with --isolation chroot
# on the kernel's overlay, so it needs no fuse-overlayfs); apache2-utils
# makes their htpasswd files; nftables' nft writes the bridge network's NAT and port rules (iproute2's ip deletes its idle bridge); tini (its static binary) is what `run --init` mounts as
# /sbin/docker-init, as Docker ships it; gcc's static libc builds the monitor, the proxy and the attack fixtures;
# libseccomp-dev is what the addon compiles seccomp profiles (Docker's default among them) to BPF with, as runc does.
packages=(busybox-static debootstrap tar util-linux procps g++ make python3 git podman runc buildah skopeo docker-registry apache2-utils tini libseccomp-dev nftables iproute2 tzdata)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# npm ci builds the addon (install: node-gyp), the TypeScript and the CLI bundle (prepare: tsc, esbuild).
npm ci --no-audit --no-fund
chmod +x dist/src/cli/main.js
ln -sf "$PWD/dist/src/cli/main.js" /usr/local/bin/nbox
