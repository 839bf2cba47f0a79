# Set-up shared by the benches that put nbox beside podman and buildah; sourced:
#   . scripts/bench/lib.sh; bench_tools hyperfine podman; bench_workdir NAME
# Stores are private, under one temp dir that the EXIT trap unmounts and removes.

# bench_tools installs the Debian packages named (each a command of the same name) that are missing.
bench_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; return; }
  done
}

# bench_workdir makes $work and the PODMAN and BUILDAH command lines over stores in it.
bench_workdir() {
  work="$(mktemp -d "/var/tmp/nbox-bench-$1.XXXXXX")"
  # runc, as in the reference figures. This sandbox refuses podman's default
  # (raised) nofile/nproc limits, so runs get 1024 as runc's example config does.
  PODMAN="podman --root $work/podman --runroot $work/podman-run --storage-driver overlay --runtime runc"
  PODMAN_RUN="$PODMAN run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
  BUILDAH="buildah --root $work/buildah --runroot $work/buildah-run --storage-driver overlay"
  trap bench_cleanup EXIT
}

bench_cleanup() {
  $PODMAN rmi -a -f >/dev/null 2>&1 || true
  $BUILDAH rm -a >/dev/null 2>&1 || true
  $BUILDAH rmi -a -f >/dev/null 2>&1 || true
  # podman leaves its storage bind mount behind; only mounts under $work are ours.
  awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount
  rm -rf "$work"
}

# bench_busybox_tar writes $work/bb.tar: a rootfs of the host's busybox with its applets.
bench_busybox_tar() {
  local rootfs="$work/rootfs" applet
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  tar -C "$rootfs" -cf "$work/bb.tar" .
}

# bench_seed_peers imports $work/bb.tar as localhost/bb into podman's store and buildah's.
bench_seed_peers() {
  $PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null 2>&1
  local seed
  # buildah has no import: ADD the tarball (extracted) into a scratch container.
  seed=$($BUILDAH from scratch)
  $BUILDAH add "$seed" "$work/bb.tar" / >/dev/null
  $BUILDAH commit -q "$seed" localhost/bb:latest >/dev/null
  $BUILDAH rm "$seed" >/dev/null
}

# bench_five writes $work/five: a 5-step build on bb, with Dockerfile (the peers'
# name for the base) and Dockerfile.nbox.
bench_five() {
  local body='ENV A=1\nWORKDIR /w\nRUN echo hi > /w/f\nCOPY small.txt /w/\nCMD ["sh"]\n'
  mkdir -p "$work/five"
  echo small > "$work/five/small.txt"
  printf 'FROM localhost/bb\n%b' "$body" > "$work/five/Dockerfile"
  printf 'FROM bb\n%b' "$body" > "$work/five/Dockerfile.nbox"
}

# $NBOX is the command as installed, started through main.js's shebang (which drops
# NODE_EXTRA_CA_CERTS, see main.ts), not `node main.js`.
# bench_nbox sets $NBOX over a store of its own in $work with $work/bb.tar imported as bb, and an
# EXIT trap that removes every container of both tools before bench_cleanup.
bench_nbox() {
  NBOX="$PWD/dist/src/cli/main.js"
  export NBOX_ROOT="$work/nbox"
  $NBOX import "$work/bb.tar" bb:latest >/dev/null
  trap bench_remove_all EXIT
}

bench_remove_all() {
  $PODMAN rm -af -t 0 >/dev/null 2>&1 || true
  $NBOX ps -aq 2>/dev/null | xargs -r $NBOX rm -f >/dev/null 2>&1 || true
  bench_cleanup
}
