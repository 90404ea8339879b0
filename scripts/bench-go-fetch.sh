#!/usr/bin/env bash
# How long scripts/bootstrap.sh takes to give a machine that has none of
# them make and Go (and what they need: apt-get update, ca-certificates,
# unzip or Debian's Go), for each COMMIT's bootstrap.sh, ROUNDS times
# alternating (default 2): each run in a chroot of a fresh copy of the
# playground's Debian root (built by make fopnp; it has no make, Go,
# unzip or ca-certificates), on a memory file system, running
# `sh scripts/bootstrap.sh --version` (make prints its version once Go is
# in). Needs root, the network, and the root's tar in NETLAB_CACHE. The
# CA certificates in /usr/local/share/ca-certificates are copied in (a
# network that needs its own CAs needs them in the chroot too).
#   scripts/bench-go-fetch.sh [-n ROUNDS] COMMIT...
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2
if [ "${1:-}" = -n ]; then rounds=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [-n ROUNDS] COMMIT..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-go-fetch: run as root" >&2; exit 1; }
tar=$(ls -t "${NETLAB_CACHE:-/var/cache/netlab}"/fopnp/root-*.tar 2>/dev/null | head -1)
[ -n "$tar" ] || { echo "bench-go-fetch: no playground root in the cache: run make fopnp first" >&2; exit 1; }
r=""
cleanup() {
  [ -n "$r" ] || return 0
  umount "$r/proc" "$r/dev" 2>/dev/null || true
  rm -rf "$r"
}
trap cleanup EXIT
run() { # COMMIT
  r=$(mktemp -d /dev/shm/bench-go-fetch.XXXX)
  tar -C "$r" -xf "$tar"
  mkdir -p "$r/src/scripts" "$r/usr/local/share/ca-certificates"
  git show "$1:scripts/bootstrap.sh" >"$r/src/scripts/bootstrap.sh"
  git show "$1:go.mod" >"$r/src/go.mod"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  cp /usr/local/share/ca-certificates/*.crt "$r/usr/local/share/ca-certificates/" 2>/dev/null || true
  mount -t proc proc "$r/proc"
  mount --bind /dev "$r/dev"
  local s e out
  s=$(date +%s.%N)
  out=$(chroot "$r" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    sh /src/scripts/bootstrap.sh --version 2>&1) || { echo "$1: bootstrap.sh failed:" >&2; echo "$out" >&2; exit 1; }
  e=$(date +%s.%N)
  printf '| %s | %.1f s | %s | %s |\n' "$1" "$(echo "$e - $s" | bc)" \
    "$(chroot "$r" /usr/local/go/bin/go version | cut -d' ' -f3)" "$(cut -d' ' -f1 /proc/loadavg)"
  cleanup
  r=""
}
echo "| commit | make and Go | go | load |"
echo "| --- | --- | --- | --- |"
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then order="$*"; else order=$(printf '%s\n' "$@" | tac | xargs); fi
  for c in $order; do run "$c"; done
done
