#!/usr/bin/env bash
# Seed the nbox store with base images built on this machine, without a registry:
#   seed-images.sh [busybox] [debian] [ryuk]     (default: busybox and debian; run as root)
# busybox:latest comes from Debian's busybox-static; debian:bookworm from
# debootstrap against the mirror apt already uses (cached as a tarball);
# testcontainers/ryuk, the reaper testcontainers starts, from nbox-ryuk (native/ryuk.c).
# Honours NBOX_ROOT; NBOX overrides the nbox command.
set -euo pipefail

NBOX="${NBOX:-node -- $(dirname "$0")/../dist/src/cli/main.js}"
DEBIAN_CACHE=/var/cache/nbox/debian-bookworm.tar
SCRATCH=()
trap 'rm -rf "${SCRATCH[@]}"' EXIT

nbox() {
  # shellcheck disable=SC2086 # NBOX is a command line, split on purpose
  $NBOX "$@"
}

have_image() {
  nbox inspect "$1" >/dev/null 2>&1
}

seed_busybox() {
  if have_image busybox:latest; then
    echo "busybox:latest already present"
    return
  fi
  local rootfs
  rootfs="$(mktemp -d)"
  SCRATCH+=("$rootfs")
  chmod 755 "$rootfs" # mktemp's 0700 would become the image's /
  mkdir -p "$rootfs"/{bin,etc,root,tmp,home,proc,sys,dev,var,usr/bin}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ "$applet" == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$rootfs/etc/group"
  tar --numeric-owner -C "$rootfs" -c . | nbox import --change 'CMD ["sh"]' - busybox:latest
}

# debian_mirror prints the Debian archive URI apt is configured with (deb822
# sources first, then the one-line format), skipping the security archive.
debian_mirror() {
  local deb822=/etc/apt/sources.list.d/debian.sources
  if [[ -f "$deb822" ]]; then
    awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' "$deb822"
  elif [[ -f /etc/apt/sources.list ]]; then
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\// && $i !~ /security/) { print $i; exit } }' /etc/apt/sources.list
  fi
}

build_debian_cache() {
  local mirror work
  mirror="$(debian_mirror)"
  if [[ -z "$mirror" ]]; then
    echo "seed-images: no Debian mirror found in apt's sources" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$DEBIAN_CACHE")"
  work="$(mktemp -d)"
  SCRATCH+=("$work" "$DEBIAN_CACHE.partial")
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror"
  chmod 755 "$work/rootfs"
  # Written aside and renamed, so an interrupted build never leaves a partial cache.
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$work/rootfs" -cf "$DEBIAN_CACHE.partial" .
  mv "$DEBIAN_CACHE.partial" "$DEBIAN_CACHE"
}

seed_debian() {
  if have_image debian:bookworm; then
    echo "debian:bookworm already present"
    return
  fi
  [[ -f "$DEBIAN_CACHE" ]] || build_debian_cache
  nbox import --change 'CMD ["bash"]' - debian:bookworm <"$DEBIAN_CACHE"
}

# The tag testcontainers-node 12.0 asks for (RYUK_CONTAINER_IMAGE names another).
RYUK_IMAGE="${RYUK_IMAGE:-testcontainers/ryuk:0.14.0}"

seed_ryuk() {
  if have_image "$RYUK_IMAGE"; then
    echo "$RYUK_IMAGE already present"
    return
  fi
  local rootfs
  rootfs="$(mktemp -d)"
  SCRATCH+=("$rootfs")
  chmod 755 "$rootfs"
  cp "$(dirname "$0")/../build/Release/nbox-ryuk" "$rootfs/ryuk"
  # The label spares it from its own reaping, and lets testcontainers find a running one to share.
  tar --numeric-owner -C "$rootfs" -c . | nbox import --change 'ENTRYPOINT ["/ryuk"]' --change 'EXPOSE 8080' \
    --change 'LABEL org.testcontainers.ryuk=true' - "$RYUK_IMAGE"
}

main() {
  local images=("$@")
  [[ ${#images[@]} -gt 0 ]] || images=(busybox debian)
  local image
  for image in "${images[@]}"; do
    case "$image" in
      busybox) seed_busybox ;;
      debian) seed_debian ;;
      ryuk) seed_ryuk ;;
      *)
        echo "usage: $0 [busybox] [debian] [ryuk]" >&2
        exit 2
        ;;
    esac
  done
}

main "$@"
