#!/usr/bin/env bash
# Measures the kubernetes runtime on the test cluster against the docker and
# runc runtimes on this one machine, in one run:
#   chain: CHAIN (default 100) nodes, CHAIN-1 point-to-point links; on
#          kubernetes the first half pinned to netlab-h1, the rest to
#          netlab-h2 (the node's host: key), so one link crosses hosts;
#   star:  STAR (default 200) nodes on one lab network; on kubernetes the
#          nodes pinned to the two hosts in turn;
# each `netlab up` and `netlab down` timed (on kubernetes also how long the
# hosts took after down to remove the pods' sandboxes: down returns when the
# lab's namespace is gone, and each kubelet removes the sandboxes in its
# garbage collection, once a minute; every measurement starts once the hosts
# hold no more sandboxes than before the first, so that this work does not
# fall into the next one), and the memory the lab takes
# per node: the machine's used memory (MemTotal - MemAvailable) once the
# lab is up, less before it, over the nodes (it holds the nodes' processes,
# their shims, the daemons' growth and the kernel's namespaces and links;
# on a machine shared with other runs it is noisy: it is read three times
# and the median taken). Then the time a cross-host link adds: a two-node
# lab up with both nodes on netlab-h1, then one on each host, REPS (3) times
# each, medians. RUNTIMES may name kubernetes-agent: kubernetes with every
# pod wired through netlab's agent on its host (NETLAB_KUBE_AGENT=1, the
# agent put on the hosts first), as on a cluster of other machines; its
# star is a bridge on each host joined by a span; and kubernetes-pod: every
# pod with its own agent (NETLAB_KUBE_AGENT=pod), as on a cluster that runs
# no netlab agent: every link a tunnel, the star's network a bridge in each
# pod joined by spans to every other.
# The test cluster must be up first (scripts/k8s-cluster.sh up): it is not
# started here, so that its daemons never hold the lock below. The runs
# hold LOCK (/tmp/netlab-heavy.lock; LOCK= for none) while they measure.
# Prints a Markdown table with the load average seen. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
CHAIN=${CHAIN:-100}
STAR=${STAR:-200}
REPS=${REPS:-3}
RUNTIMES=${RUNTIMES:-kubernetes docker runc}
LOCK=${LOCK-/tmp/netlab-heavy.lock}
export KUBECONFIG=${KUBECONFIG:-/var/lib/netlab-k8s/admin.kubeconfig}
[ "$(id -u)" = 0 ] || { echo "bench-k8s: run as root" >&2; exit 1; }
[ -e /run/netlab-k8s/up ] || { echo "bench-k8s: the test cluster is not up: scripts/k8s-cluster.sh up first (not under $LOCK)" >&2; exit 1; }
CGO_ENABLED=0 go build -o bin/ ./cmd/netlab ./cmd/netlab-init
nl=bin/netlab
scripts/k8s-cluster.sh load-docker netlab/tiny >/dev/null
case " $RUNTIMES " in *" kubernetes-agent "* | *" kubernetes-pod "*) scripts/k8s-cluster.sh agent bin >/dev/null 2>&1 ;; esac
# sandboxes: how many pod sandboxes the test cluster's hosts hold (their
# containerd's CRI state).
sandboxes() { { find "${NETLAB_K8S_STATE:-/var/lib/netlab-k8s}"/h*/containerd/io.containerd.grpc.v1.cri/sandboxes -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l; }
sandboxes0=$(sandboxes)
work=$(mktemp -d)
cleanup() {
  for l in bk8schain bk8sstar bk8sp2p; do $nl down $l >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "$LOCK" ]; then
  exec 9>"$LOCK"
  echo "bench-k8s: waiting for $LOCK" >&2
  flock 9
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
used_mb() { awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {printf "%d\n", (t - a) / 1024}' /proc/meminfo; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }
load() { cut -d' ' -f1 /proc/loadavg; }

# pin RUNTIME I N: the host: line for node I of N (kubernetes only).
pin() {
  [ "$1" = kubernetes ] || return 0
  case $4 in
    half) [ "$2" -le $(( $3 / 2 )) ] && echo "    host: netlab-h1" || echo "    host: netlab-h2" ;;
    turn) [ $(( $2 % 2 )) = 1 ] && echo "    host: netlab-h1" || echo "    host: netlab-h2" ;;
  esac
}
chain() { # RUNTIME N
  echo "name: bk8schain"; echo "runtime: $1"; echo "defaults: {image: netlab/tiny}"; echo "nodes:"
  for i in $(seq 1 "$2"); do
    echo "  n$i:"; pin "$1" "$i" "$2" half; echo "    forward: true"; echo "    interfaces:"
    [ "$i" -gt 1 ] && echo "      left: {address: 10.$(( (i-1) / 64 )).0.$(( ((i-1) % 64) * 4 + 2 ))/30}"
    [ "$i" -lt "$2" ] && echo "      right: {address: 10.$(( i / 64 )).0.$(( (i % 64) * 4 + 1 ))/30}"
  done
  echo "links:"
  for i in $(seq 1 $(( $2 - 1 ))); do echo "  - [n$i:right, n$((i+1)):left]"; done
}
star() { # RUNTIME N
  echo "name: bk8sstar"; echo "runtime: $1"; echo "defaults: {image: netlab/tiny}"
  echo "networks: {lan: {subnet: 10.200.0.0/16}}"; echo "nodes:"
  for i in $(seq 1 "$2"); do echo "  n$i:"; pin "$1" "$i" "$2" turn; echo "    interfaces: {eth0: {network: lan}}"; done
}
p2p() { # HOST_OF_B
  echo "name: bk8sp2p"; echo "runtime: kubernetes"; echo "defaults: {image: netlab/tiny}"; echo "nodes:"
  echo "  a: {host: netlab-h1, interfaces: {eth0: {address: 10.1.1.1/30}}}"
  echo "  b: {host: $1, interfaces: {eth0: {address: 10.1.1.2/30}}}"
  echo "links: [[a:eth0, b:eth0]]"
}

# settle: waits until the hosts hold no more sandboxes than before the first
# measurement (at most 180 s); prints the seconds waited.
settle() {
  local t0; t0=$(now)
  while [ "$(sandboxes)" -gt "$sandboxes0" ] && awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a < 180) }'; do sleep 1; done
  secs "$t0" "$(now)"
}

# measure RUNTIME KIND N: prints a table row.
measure() {
  local rt=$1 kind=$2 n=$3 f=$work/$2-$1.yaml file_rt=$1 agent=0
  case $rt in
    kubernetes-agent) file_rt=kubernetes agent=1 ;;
    kubernetes-pod) file_rt=kubernetes agent=pod ;;
  esac
  "$kind" "$file_rt" "$n" >"$f"
  settle >/dev/null
  sleep 2
  local m0 l0 t0 t1 m1 t2 t3 ok=ok
  m0=$( (used_mb; sleep 1; used_mb; sleep 1; used_mb) | median)
  l0=$(load)
  t0=$(now)
  NETLAB_KUBE_AGENT=$agent $nl up "$f" >"$work/up.log" 2>&1 || { ok="up failed: $(tail -n 2 "$work/up.log" | tr '\n' ' ')"; }
  t1=$(now)
  sleep 2
  m1=$( (used_mb; sleep 1; used_mb; sleep 1; used_mb) | median)
  t2=$(now)
  NETLAB_KUBE_AGENT=$agent $nl down "bk8s$kind" >"$work/down.log" 2>&1 || ok="$ok; down failed"
  t3=$(now)
  local l1 clean=""
  l1=$(load)
  [ "$file_rt" = kubernetes ] && clean="$(settle) s"
  printf '| %s | %s %d | %s s | %s s | %s | %d MB | %s | %s |\n' "$rt" "$kind" "$n" "$(secs "$t0" "$t1")" "$(secs "$t2" "$t3")" \
    "$clean" $(( (m1 - m0) / n )) "$l0-$l1" "$ok"
}

echo "bench-k8s: $(date -u +%FT%TZ), $(nproc) cores, load $(load); chain $CHAIN, star $STAR" >&2
echo "| runtime | lab | up | down | sandboxes gone after down | memory per node | load | |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for rt in $RUNTIMES; do
  measure "$rt" chain "$CHAIN"
  measure "$rt" star "$STAR"
done
case " $RUNTIMES " in *" kubernetes "*)
  for b in netlab-h1 netlab-h2; do
    p2p "$b" >"$work/p2p-$b.yaml"
    for _ in $(seq 1 "$REPS"); do
      t0=$(now); $nl up "$work/p2p-$b.yaml" >/dev/null 2>&1; t1=$(now)
      $nl down bk8sp2p >/dev/null 2>&1
      secs "$t0" "$t1"; echo
    done | median >"$work/p2p-$b"
  done
  settle >/dev/null # the next run starts with the hosts as they were
  echo
  echo "two-node lab up on kubernetes, median of $REPS: both on netlab-h1 $(cat "$work/p2p-netlab-h1") s, across the hosts $(cat "$work/p2p-netlab-h2") s (load $(load))"
  ;;
esac
