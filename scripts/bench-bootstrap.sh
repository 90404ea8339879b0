#!/usr/bin/env bash
# Times `sh scripts/bootstrap.sh fopnp` as on a fresh machine, for each
# COMMIT given, ROUNDS times (default 2; the order of the commits alternates
# from round to round):
#   - a fresh clone of this repository at COMMIT;
#   - a scratch Docker engine of its own (own data and exec roots, socket
#     and containerd; no bridge, no iptables rules: netlab's nodes have
#     network mode none), so no image is there, netlab/tiny included;
#   - empty NETLAB_CACHE (Debian's packages downloaded again), GOMODCACHE,
#     GOCACHE and HOME, and the PATH of a fresh root (no pyenv or other
#     python3 before Debian's: mmdebstrap's mmtarfilter runs python3 from
#     PATH).
# What it cannot redo: the packages setup.sh installs and Go are taken as
# installed. Prints, per run, the load average before and after, the total
# and when each step began (seconds from the start); the full logs stay
# in KEEP when it names a folder. Needs root, Docker's dockerd, and no lab
# named fopnp up (the playground's names and ports are the host's).
#   scripts/bench-bootstrap.sh [-n ROUNDS] COMMIT...
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-rounds.sh
rounds=2
if [ "${1:-}" = -n ]; then rounds=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [-n ROUNDS] COMMIT..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-bootstrap: run as root" >&2; exit 1; }
repo=$(pwd)
commits=()
for c in "$@"; do commits+=("$(git rev-parse --short "$c^{commit}")"); done

work=
dockerd_pid=
stop_engine() {
  if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
    kill "$dockerd_pid"
    for _ in $(seq 1 120); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  dockerd_pid=
}
cleanup() {
  if [ -n "$work" ]; then
    [ -x "$work/src/bin/netlab" ] && DOCKER_HOST="unix://$work/docker.sock" "$work/src/bin/netlab" down fopnp >/dev/null 2>&1 || true
    stop_engine
    # Whatever the engine left mounted under the run's folder.
    { grep -o " $work/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$work"
  fi
  work=
}
trap cleanup EXIT

one() { # COMMIT
  local c=$1 start line t
  if [ -e /var/lib/netlab/up/fopnp.json ] || [ -e /run/netlab/fopnp ] || docker ps -q --filter label=netlab.lab=fopnp 2>/dev/null | grep -q .; then
    echo "bench-bootstrap: a lab fopnp is up on this machine; not running" >&2
    exit 1
  fi
  work=$(mktemp -d /tmp/bench-bootstrap.XXXX)
  chmod 755 "$work"
  git clone -q "$repo" "$work/src"
  git -C "$work/src" checkout -q "$c"
  mkdir -p "$work/home" "$work/docker" "$work/exec"
  dockerd --data-root "$work/docker" --exec-root "$work/exec" --pidfile "$work/docker.pid" \
    -H "unix://$work/docker.sock" --bridge=none --iptables=false --ip6tables=false \
    --cgroup-parent=/bench-bootstrap >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 120); do DOCKER_HOST="unix://$work/docker.sock" docker info >/dev/null 2>&1 && break; sleep 0.5; done
  local load0 load1
  load0=$(cut -d' ' -f1 /proc/loadavg)
  start=${EPOCHREALTIME/./}
  set +e
  (cd "$work/src" && env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$work/home" TERM=dumb LANG=C.UTF-8 \
    DOCKER_HOST="unix://$work/docker.sock" NETLAB_CACHE="$work/cache" \
    GOMODCACHE="$work/gomod" GOCACHE="$work/gocache" GOPATH="$work/gopath" \
    sh scripts/bootstrap.sh fopnp) 2>&1 | while IFS= read -r line; do
      t=$((${EPOCHREALTIME/./} - start))
      printf '%5d.%d %s\n' $((t / 1000000)) $((t / 100000 % 10)) "$line"
    done >"$work/log"
  local rc=${PIPESTATUS[0]}
  set -e
  t=$((${EPOCHREALTIME/./} - start))
  t=$((t / 1000000)).$((t / 100000 % 10))
  load1=$(cut -d' ' -f1 /proc/loadavg)
  echo "$c: ${t} s, exit $rc, load $load0 -> $load1"
  bench_steps "$work/log"
  [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$work/log" "$KEEP/$c.$(date +%H%M%S).log"
  cleanup
  [ "$rc" = 0 ] || failed=1
}

bench_rounds "$rounds" one "${commits[@]}"
