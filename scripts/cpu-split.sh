#!/usr/bin/env bash
# Where a machine's CPU goes while labs run: every INTERVAL seconds
# (default 30) until interrupted, the CPU seconds (user, system) of the
# whole machine, of every lab node (the cgroup v1 cpuacct folder netlab's
# nodes are in, /sys/fs/cgroup/cpuacct/netlab), and the rest (netlab's own
# processes, runc, the kernel's threads, anything else), from cpuacct.stat.
# With 2 CPUs and INTERVAL 30, all three sum to at most 60 s. Used for the
# 30-AS Internet in docs/internet.md. Needs cgroup v1's cpuacct.
set -euo pipefail
INTERVAL=${1:-30}
root=/sys/fs/cgroup/cpuacct
nodes=$root/netlab
[ -r "$root/cpuacct.stat" ] || { echo "cpu-split: needs cgroup v1's cpuacct" >&2; exit 1; }
hz=$(getconf CLK_TCK)
# read DIR: user and system ticks of the cgroup (0 0 when it is not there)
read_stat() { if [ -r "$1/cpuacct.stat" ]; then awk '{printf "%s ", $2}' "$1/cpuacct.stat"; else echo "0 0"; fi; }
secs() { echo "scale=1; $1 / $hz" | bc; }
read -r ru0 rs0 <<<"$(read_stat $root)"
read -r nu0 ns0 <<<"$(read_stat $nodes)"
echo "time      load    | machine user / sys | lab nodes user / sys | rest user / sys"
while sleep "$INTERVAL"; do
  read -r ru rs <<<"$(read_stat $root)"
  read -r nu ns <<<"$(read_stat $nodes)"
  # A cgroup that went (every lab down) starts again from 0.
  (( nu < nu0 || ns < ns0 )) && nu0=0 ns0=0
  dru=$((ru - ru0)) drs=$((rs - rs0)) dnu=$((nu - nu0)) dns=$((ns - ns0))
  printf '%s %7s | %6s s / %6s s | %6s s / %6s s | %6s s / %6s s\n' "$(date +%T)" "$(cut -d' ' -f1 /proc/loadavg)" \
    "$(secs $dru)" "$(secs $drs)" "$(secs $dnu)" "$(secs $dns)" "$(secs $((dru - dnu)))" "$(secs $((drs - dns)))"
  ru0=$ru rs0=$rs nu0=$nu ns0=$ns
done
