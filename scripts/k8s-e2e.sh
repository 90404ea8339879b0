#!/usr/bin/env bash
# The kubernetes runtime's end-to-end tests on the test cluster, as CI runs
# them (make kube-e2e, part of make test):
#   1. build the Kubernetes binaries (cached by their inputs in
#      /var/cache/netlab/k8s: seconds when warm, about 18 minutes cold);
#   2. start the cluster (scripts/k8s-cluster.sh up, which waits for the API
#      server, both nodes Ready and the default service account); a start
#      that fails is logged, taken down and tried once more;
#   3. run the tests on it: NETLAB_RUNTIME=kubernetes, -run KUBERUN (the
#      playground, a chain split across the two hosts and a lab network
#      spanning them, both wired through netlab's agent, p2p, a bridge,
#      OSPF across the hosts, stop/start and the watcher, the faults test);
#      then the playground again with every pod wired through the agents;
#   4. check that the tests left no lab in the cluster, take the cluster
#      down, and check that the host is as it was before 2: this runs also
#      when a test fails or the run is interrupted (trap);
#   5. TestK8sCluster, which starts and stops a cluster of its own and
#      compares the host in more detail.
# LOCK=FILE: flock FILE once the cluster is up (not before: its daemons
# would inherit the descriptor), until the end.
# It refuses to run when a cluster is up already: that one is someone's.
# Times of each part are printed at the end. Run as root, not holding a lock
# another run waits on: the cluster's daemons outlive steps of this script.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
GO=${GO:-go}
CLUSTER=scripts/k8s-cluster.sh
KUBECONFIG_FILE=/var/lib/netlab-k8s/admin.kubeconfig
# Each go test has its own timeout; the whole of this script stays under
# about 40 minutes even cold.
KUBERUN=${KUBERUN:-'TestFopnpPlayground|TestKubernetes|TestFaultsLinkAndNode'}
KUBERUNTIMEOUT=${KUBERUNTIMEOUT:-20m}
K8STESTTIMEOUT=${K8STESTTIMEOUT:-10m}
E2EPARALLEL=${E2EPARALLEL:-4}

say() { printf '== kube-e2e: %s\n' "$*" >&2; }
die() { printf 'kube-e2e: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ ! -e /run/netlab-k8s ] || die "a Kubernetes test cluster is up already (/run/netlab-k8s): it is not this run's; take it down with '$CLUSTER down' when its owner is done"

# host_state: what the cluster changes on the host and its down must put
# back (docs/kubernetes.md: the test cluster).
host_state() {
  local k p
  for k in vm.overcommit_memory kernel.panic kernel.panic_on_oops; do echo "sysctl $k=$(sysctl -n $k)"; done
  ip link show nlk8s0 >/dev/null 2>&1 && echo "link nlk8s0"
  for p in /var/lib/netlab-k8s /run/netlab-k8s /var/lib/kubelet /var/log/pods /var/log/containers /etc/cni; do
    [ -e "$p" ] && echo "path $p"
  done
  for p in /sys/fs/cgroup/*/netlab-k8s; do [ -e "$p" ] && echo "cgroup $p"; done
  awk '$5 ~ /netlab-k8s/ {print "mount " $5}' /proc/self/mountinfo
  return 0
}

t_start=$(date +%s)
before=$(mktemp); after=$(mktemp)
host_state >"$before"
status=0
cluster_up=0

finish() {
  local code=$?
  [ "$status" = 0 ] || code=$status
  if [ "$cluster_up" = 1 ]; then
    local left
    left=$(KUBECONFIG=$KUBECONFIG_FILE /var/lib/netlab-k8s/bin/kubectl get namespaces -l netlab.lab -o name 2>&1 || true)
    if [ -n "$left" ]; then
      say "labs left in the cluster after the tests: $left"
      code=1
    fi
    say "taking the cluster down"
    "$CLUSTER" down || code=1
  fi
  host_state >"$after"
  if ! diff -u "$before" "$after" >&2; then
    say "the host differs from before the cluster's start (above)"
    code=1
  fi
  rm -f "$before" "$after"
  exit "$code"
}
trap finish EXIT
trap 'status=130; exit 130' INT TERM

say "building the Kubernetes binaries (cached in /var/cache/netlab/k8s)"
t0=$(date +%s)
k8s/cluster/build/build.sh >/dev/null
t1=$(date +%s)

say "starting the test cluster"
cluster_up=1
if ! "$CLUSTER" up; then
  say "the cluster did not start; its logs' last lines:"
  tail -n 5 /var/lib/netlab-k8s/log/*.log >&2 || true
  "$CLUSTER" down
  say "starting the test cluster again"
  "$CLUSTER" up
fi
# The images the tests use, from this machine's Docker engine, in one
# archive (the tests would load them one test at a time, under their
# timeouts).
images=(netlab/tiny)
docker image inspect netlab/router >/dev/null 2>&1 && images+=(netlab/router)
docker image inspect fopnp/base fopnp/dns fopnp/ftp fopnp/mail fopnp/www >/dev/null 2>&1 &&
  images+=(fopnp/base fopnp/dns fopnp/ftp fopnp/mail fopnp/www)
say "loading ${images[*]} into the cluster"
"$CLUSTER" load-docker "${images[@]}" >/dev/null
t2=$(date +%s)
# LOCK (none by default): a file to flock once the cluster is up, for a
# machine whose heavy runs take turns; never before, since the cluster's
# daemons would inherit it.
if [ -n "${LOCK:-}" ]; then
  exec 9>"$LOCK"
  say "waiting for $LOCK"
  flock 9
fi
tl=$(date +%s)

say "the kubernetes runtime's tests: $KUBERUN"
# pipefail: the pipe fails when go test does.
if ! NETLAB_E2E=1 NETLAB_RUNTIME=kubernetes KUBECONFIG=$KUBECONFIG_FILE \
  "$GO" test -count=1 -timeout "$KUBERUNTIMEOUT" -parallel "$E2EPARALLEL" -run "$KUBERUN" -v ./tests |
  grep -E '^(=== RUN|--- |\s|ok|FAIL|panic)'; then
  status=1
fi
# The playground again, and a generated Internet with its matrix check
# and looking glass, every pod wired, probed and reached through the
# agent of its host (netlab's agent, k8s/agent.yaml), as on a cluster
# whose hosts are other machines.
say "the playground and an Internet through the agents"
if ! NETLAB_KUBE_AGENT=1 NETLAB_E2E=1 NETLAB_RUNTIME=kubernetes KUBECONFIG=$KUBECONFIG_FILE \
  "$GO" test -count=1 -timeout "$KUBERUNTIMEOUT" -parallel "$E2EPARALLEL" -run 'TestFopnpPlayground|TestGeneratedInternet' -v ./tests |
  grep -E '^(=== RUN|--- |\s|ok|FAIL|panic)'; then
  status=1
fi
say "the playground with an agent in every pod"
if ! NETLAB_KUBE_AGENT=pod NETLAB_E2E=1 NETLAB_RUNTIME=kubernetes KUBECONFIG=$KUBECONFIG_FILE \
  "$GO" test -count=1 -timeout "$KUBERUNTIMEOUT" -parallel "$E2EPARALLEL" -run 'TestFopnpPlayground' -v ./tests |
  grep -E '^(=== RUN|--- |\s|ok|FAIL|panic)'; then
  status=1
fi
t3=$(date +%s)

cluster_up=0
left=$(KUBECONFIG=$KUBECONFIG_FILE /var/lib/netlab-k8s/bin/kubectl get namespaces -l netlab.lab -o name 2>&1 || true)
[ -z "$left" ] || { say "labs left in the cluster after the tests: $left"; status=1; }
say "taking the cluster down"
"$CLUSTER" down
host_state >"$after"
diff -u "$before" "$after" >&2 || { say "the host differs from before the cluster's start (above)"; status=1; }
t4=$(date +%s)

say "TestK8sCluster: a cluster of its own, up and down, the host compared"
NETLAB_E2E=1 NETLAB_K8S=1 "$GO" test -count=1 -timeout "$K8STESTTIMEOUT" -run 'TestK8sCluster' ./tests || status=1
t5=$(date +%s)

say "times: build $((t1 - t0)) s, cluster up and images $((t2 - t1)) s, waiting for the lock $((tl - t2)) s, tests $((t3 - tl)) s, down and checks $((t4 - t3)) s, TestK8sCluster $((t5 - t4)) s; total $((t5 - t_start)) s"
[ "$status" = 0 ] && say "passed"
exit "$status"
