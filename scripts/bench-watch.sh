#!/usr/bin/env bash
# What a runc lab's watcher costs while commands run in its nodes: a lab of
# NODES (default 100) netlab/tiny nodes on runc, then EXECS (default 100)
# `netlab exec LAB n1 -- true`, and the CPU seconds the lab's watcher
# process used meanwhile (utime + stime of /proc/PID/stat). A check, a
# matrix poll or a student's shell is such an exec; each runc exec writes
# and removes a file in the node's state directory, which the watcher sees.
# With BASE=REV, the same with netlab built from that revision, in the same
# run, alternating (REPS rounds, default 3). Prints a Markdown table.
# Needs root and runc.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${NODES:-100}
EXECS=${EXECS:-100}
REPS=${REPS:-3}
[ "$(id -u)" = 0 ] || { echo "bench-watch: run as root" >&2; exit 1; }
work=$(mktemp -d)
lab=bwatch
cleanup() {
  for b in "$work"/*/netlab; do [ -x "$b" ] && "$b" down "$lab" >/dev/null 2>&1; done
  [ -n "${BASE:-}" ] && git worktree remove --force "$work/src" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

builds=(this)
mkdir -p "$work/this"
CGO_ENABLED=0 go build -tags nokube,noserve -o "$work/this/" ./cmd/netlab ./cmd/netlab-init
if [ -n "${BASE:-}" ]; then
  git worktree add --detach "$work/src" "$BASE" >/dev/null 2>&1
  mkdir -p "$work/base"
  (cd "$work/src" && CGO_ENABLED=0 go build -tags nokube,noserve -o "$work/base/" ./cmd/netlab ./cmd/netlab-init)
  builds+=(base)
fi

{
  echo "name: $lab"
  echo "runtime: runc"
  echo "defaults: {image: netlab/tiny}"
  echo "nodes:"
  for i in $(seq 1 "$NODES"); do echo "  n$i: {}"; done
} >"$work/lab.yaml"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "| netlab | nodes | execs | watcher CPU | per exec |"
echo "| --- | --- | --- | --- | --- |"
for _ in $(seq 1 "$REPS"); do
  for b in "${builds[@]}"; do
    nl="$work/$b/netlab"
    $nl up "$work/lab.yaml" >/dev/null 2>&1 || { echo "bench-watch: up failed ($b)" >&2; exit 1; }
    sleep 2 # the watcher follows the lab once up has let go of it
    pid=$(cat "/run/netlab/$lab/watch.pid")
    t0=$(ticks "$pid")
    for _ in $(seq 1 "$EXECS"); do $nl exec "$lab" n1 -- true; done
    sleep 1
    t1=$(ticks "$pid")
    $nl down "$lab" >/dev/null
    ticks=$((t1 - t0))
    printf '| %s | %d | %d | %.2f s | %.1f ms |\n' "$b" "$NODES" "$EXECS" "$(echo "$ticks / 100" | bc -l)" "$(echo "$ticks * 10 / $EXECS" | bc -l)"
  done
done
