#!/usr/bin/env bash
# A test harness's container start (issue 14: run() to ready <= 10 ms median, >= 100/s):
# nbox's library API in-process beside podman's CLI (run -d, logs until ready, rm -f).
#   sudo scripts/bench/harness-run.sh        (RUNS=100 by default)
# Needs root, podman and runc (installed if missing); where podman cannot run containers, nbox is timed alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh
RUNS="${RUNS:-100}"
bench_tools podman runc
bench_workdir harness-run
bench_busybox_tar
bench_nbox
$PODMAN import "$work/bb.tar" localhost/bb:latest >/dev/null 2>&1 || true
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each"
if podman_error=$($PODMAN run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb true 2>&1); then
  PODMAN="$PODMAN" PODMAN_IMAGE=localhost/bb node scripts/bench/api-ready.js "$NBOX_ROOT" bb "$RUNS"
else
  echo "podman cannot run containers here, timing nbox alone: $(echo "$podman_error" | tail -1)"
  node scripts/bench/api-ready.js "$NBOX_ROOT" bb "$RUNS"
fi
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
