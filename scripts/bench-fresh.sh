#!/usr/bin/env bash
# Times the README's first command, `sh scripts/bootstrap.sh fopnp`, on a
# machine with nothing: a fresh Debian 12 root (mmdebstrap's default
# variant, Debian's required and important packages, as a minimal install
# has them), entered with chroot in a mount namespace of its own, for each
# COMMIT given, ROUNDS times (default 1; the order alternates per round).
# Unlike scripts/bench-bootstrap.sh, nothing is taken as installed: apt's
# lists, make, unzip, Go, Docker and the rest of setup.sh's packages, the
# Go modules, Debian's packages for the images; each from the network.
# What differs from a machine: the root has this machine's own certificate
# authorities in /usr/local/share/ca-certificates (a network's TLS proxy
# must be trusted there too); it shares this machine's kernel,
# network and cgroups, so its Docker engine is told (/etc/docker/
# daemon.json, written before the run) to make no bridge and no iptables
# rules and to keep its containers' cgroups under /bench-fresh; the
# playground's nodes have network mode none and need neither. Prints, per
# run, the total, the load average before and after, and when each step
# began; the logs stay in KEEP when it names a folder. Needs root,
# mmdebstrap, and no lab named fopnp up here (its host names, ports and
# nftables tables would be the same).
#   scripts/bench-fresh.sh [-n ROUNDS] COMMIT...
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-rounds.sh
rounds=1
if [ "${1:-}" = -n ]; then rounds=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [-n ROUNDS] COMMIT..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-fresh: run as root" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "bench-fresh: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
repo=$(pwd)
commits=()
for c in "$@"; do commits+=("$(git rev-parse --short "$c^{commit}")"); done

base=$(mktemp -d /tmp/bench-fresh.XXXX)
root=
# inside: the pids of the processes in the run's root (its daemons, and
# its containers' processes, whose roots are below it).
inside() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case "$r/" in "$root"/*) echo "${p#/proc/}" ;; esac
  done
  return 0
}
stop_root() {
  [ -n "$root" ] && [ -d "$root" ] || return 0
  # The playground down by the root's own netlab, in the root's mount
  # namespace (its nftables tables, links and forwarders are this
  # machine's), then every process left in it.
  local pids i
  pids=$(inside)
  for i in $pids; do
    [ "$(readlink "/proc/$i/root")" = "$root" ] || continue
    nsenter -t "$i" -m -r -w env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      /root/netlab/bin/netlab down fopnp >/dev/null 2>&1 || true
    break
  done
  for i in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(inside)
    [ -n "$pids" ] || break
    if [ "$i" -lt 5 ]; then kill $pids 2>/dev/null || true; else kill -9 $pids 2>/dev/null || true; fi
    sleep 1
  done
  find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -depth -type d -path '*/bench-fresh*' -exec rmdir {} + 2>/dev/null || true
  # The root's mounts lived in its own namespace, gone with its last
  # process; nothing of this machine's may be mounted below it.
  if grep -q " $root[/ ]" /proc/self/mounts || [ -n "$(inside)" ]; then
    echo "bench-fresh: $root still has processes or mounts; left for you to remove" >&2
    root=
    return 1
  fi
  rm -rf "$root"
  root=
}
cleanup() {
  stop_root && rm -rf "$base"
}
trap cleanup EXIT

# One fresh root, packed once; each run unpacks its own copy.
echo "bench-fresh: making a fresh Debian 12 root" >&2
mmdebstrap --quiet --variant=debootstrap bookworm "$base/root.tar" \
  "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main"

one() { # COMMIT
  local c=$1 start t rc load0 load1
  if [ -e /run/netlab/fopnp ] || docker ps -q --filter label=netlab.lab=fopnp 2>/dev/null | grep -q .; then
    echo "bench-fresh: a lab fopnp is up on this machine; not running" >&2
    exit 1
  fi
  root=$base/run
  mkdir -p "$root"
  tar -xf "$base/root.tar" -C "$root"
  git clone -q "$repo" "$root/root/netlab"
  git -C "$root/root/netlab" checkout -q "$c"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # This machine's own certificate authorities (a network's TLS proxy),
  # which ca-certificates adds to the root's store when it is installed.
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  mkdir -p "$root/etc/docker"
  echo '{"bridge": "none", "iptables": false, "ip6tables": false, "cgroup-parent": "/bench-fresh"}' >"$root/etc/docker/daemon.json"
  load0=$(cut -d' ' -f1 /proc/loadavg)
  start=${EPOCHREALTIME/./}
  set +e
  unshare --mount --propagation private sh -c '
    set -e
    r=$1
    # The root a mount point, as a machine'"'"'s is (Docker remounts it).
    mount --bind "$r" "$r"
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"
    mount --rbind /dev "$r/dev"
    mount -t tmpfs tmpfs "$r/run"
    mount -t tmpfs tmpfs "$r/tmp"
    exec chroot "$r" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root TERM=dumb LANG=C.UTF-8 sh -c "cd /root/netlab && sh scripts/bootstrap.sh fopnp"
  ' sh "$root" 2>&1 </dev/null | while IFS= read -r line; do
    t=$((${EPOCHREALTIME/./} - start))
    printf '%5d.%d %s\n' $((t / 1000000)) $((t / 100000 % 10)) "$line"
  done >"$base/log"
  rc=${PIPESTATUS[0]}
  set -e
  t=$((${EPOCHREALTIME/./} - start))
  t=$((t / 1000000)).$((t / 100000 % 10))
  load1=$(cut -d' ' -f1 /proc/loadavg)
  echo "$c: ${t} s, exit $rc, load $load0 -> $load1"
  # When the Go build wrote netlab (it prints nothing when it ends).
  if [ -e "$root/root/netlab/bin/netlab" ]; then
    t=$(($(date -r "$root/root/netlab/bin/netlab" +%s%6N) - start))
    printf '    %5d.%d (bin/netlab written)\n' $((t / 1000000)) $((t / 100000 % 10))
  fi
  bench_steps "$base/log"
  [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$base/log" "$KEEP/$c.$(date +%H%M%S).log"
  stop_root
  [ "$rc" = 0 ] || failed=1
}

bench_rounds "$rounds" one "${commits[@]}"
