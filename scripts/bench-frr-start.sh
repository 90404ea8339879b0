#!/usr/bin/env bash
# The CPU one router's FRR start takes, FRR's own script (/etc/init.d/frr
# start, with frr-settle) against netlab/router's frr-start, applying
# frr.conf with vtysh -b, and frr-start giving each daemon its part of it
# (/etc/frr/netlab-boot, -f), in threes
# (REPS, default 5), each start in a fresh container of its own
# (docker run --network none netlab/router, then docker exec of the start),
# read from the container's cpuacct cgroup (cgroup v1) before and after.
# The router is as1-zuri of a generated 3-AS Internet: its frr.conf and
# daemons file are taken from a lab brought up on runc and down again.
# Prints a Markdown table: each run's CPU and wall seconds, and medians.
# Needs root, Docker, cgroup v1 and the netlab/router image.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
[ "$(id -u)" = 0 ] || { echo "bench-frr-start: run as root" >&2; exit 1; }
[ -d /sys/fs/cgroup/cpuacct ] || { echo "bench-frr-start: needs cgroup v1's cpuacct" >&2; exit 1; }
CGO_ENABLED=0 go build -o bin/ ./cmd/netlab ./cmd/netlab-init
nl=bin/netlab
work=$(mktemp -d)
lab=bfrr-inet
cid=
cleanup() {
  [ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1
  $nl down "$lab" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

$nl new internet --ases 3 --name "$lab" -o "$work/lab.yaml" >/dev/null 2>&1
$nl up --runtime runc "$work/lab.yaml" >/dev/null 2>&1 || { echo "bench-frr-start: netlab up failed" >&2; exit 1; }
for f in frr.conf daemons; do $nl exec "$lab" as1-zuri -- cat /etc/frr/$f >"$work/$f"; done
mkdir "$work/boot"
for f in $($nl exec "$lab" as1-zuri -- ls /etc/frr/netlab-boot); do
  $nl exec "$lab" as1-zuri -- cat "/etc/frr/netlab-boot/$f" >"$work/boot/$f"
done
$nl down "$lab" >/dev/null

# one PARTS COMMAND...: "cpu_seconds wall_seconds" of one start in a fresh
# container, with the daemons' parts of frr.conf when PARTS is yes.
one() {
  local parts=$1
  shift
  cid=$(docker run -d --network none --cap-add NET_ADMIN --cap-add SYS_ADMIN --cap-add NET_RAW netlab/router sleep infinity)
  for f in frr.conf daemons; do docker cp "$work/$f" "$cid:/etc/frr/$f" >/dev/null; done
  [ "$parts" = yes ] && docker cp "$work/boot" "$cid:/etc/frr/netlab-boot" >/dev/null
  docker exec "$cid" chown frr:frr /etc/frr/frr.conf /etc/frr/daemons
  local cg u0 u1 t0 t1
  cg=$(ls -d /sys/fs/cgroup/cpuacct/docker/"$cid"*)
  u0=$(cat "$cg/cpuacct.usage"); t0=$(date +%s.%N)
  docker exec "$cid" "$@" >"$work/out" 2>&1 || { echo "bench-frr-start: $* failed:" >&2; cat "$work/out" >&2; exit 1; }
  t1=$(date +%s.%N); u1=$(cat "$cg/cpuacct.usage")
  # (the output read whole first: grep -q ending early fails the pipe)
  docker exec "$cid" vtysh -c 'show running-config' >"$work/conf" 2>&1
  grep -q '^router bgp' "$work/conf" ||
    { echo "bench-frr-start: $* left bgpd without its configuration" >&2; exit 1; }
  docker rm -f "$cid" >/dev/null; cid=
  awk -v a="$u0" -v b="$u1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.3f %.2f\n", (b - a) / 1e9, e - s }'
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }

: >"$work/script"; : >"$work/direct"; : >"$work/parts"
for _ in $(seq 1 "$REPS"); do
  one no /etc/init.d/frr start >>"$work/script"
  one no /usr/local/lib/netlab/frr-start >>"$work/direct"
  one yes /usr/local/lib/netlab/frr-start >>"$work/parts"
done
echo "bench-frr-start: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $REPS rounds" >&2
echo "| start | CPU per start | median | wall, median |"
echo "|---|---|---|---|"
for k in script direct parts; do
  name="FRR's script (\`/etc/init.d/frr start\`, with \`frr-settle\`)"
  [ $k = direct ] && name="\`frr-start\`, \`vtysh -b\`"
  [ $k = parts ] && name="\`frr-start\`, each daemon its part (\`-f\`)"
  echo "| $name | $(cut -d' ' -f1 "$work/$k" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1}') s | $(cut -d' ' -f1 "$work/$k" | median | xargs printf %.2f) s | $(cut -d' ' -f2 "$work/$k" | median) s |"
done
