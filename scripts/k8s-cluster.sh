#!/usr/bin/env bash
# A Kubernetes cluster for netlab's tests, made on this machine from what can
# be fetched here: the Kubernetes binaries built from the Go module proxy
# (k8s/cluster/build), etcd, containerd, runc and the CNI plugins from Debian,
# and a pause image built locally. No registry is used.
#
#   scripts/k8s-cluster.sh up       start it (builds the binaries the first time, ~18 min on 2 cores)
#   scripts/k8s-cluster.sh down     stop it and leave the host as it was
#   scripts/k8s-cluster.sh status   what runs, the nodes, the memory it takes
#   scripts/k8s-cluster.sh env      the KUBECONFIG and PATH to use it (eval "$(scripts/k8s-cluster.sh env)")
#   scripts/k8s-cluster.sh load TAR  import an image archive (docker save, OCI) into every host's containerd
#   scripts/k8s-cluster.sh load-docker IMAGE...  the same for images of this machine's Docker engine,
#                                    each imported once per cluster (by its image id)
#   scripts/k8s-cluster.sh agent [BIN]  netlab's agent on every host (k8s/agent.yaml), its image
#                                    built from BIN's netlab and netlab-init (default bin/)
#
# Layout: every part runs in network namespaces of its own, so that nothing
# listens on the host's addresses and Docker's firewall never sees the
# cluster's traffic.
#   cp   the control plane (etcd, kube-apiserver, kube-controller-manager,
#        kube-scheduler) and the bridge br0 (198.18.250.1/24) that joins the
#        hosts; reached from the host over the veth nlk8s0 (host
#        198.18.249.1, apiserver https://198.18.249.2:6443).
#   hN   a simulated host (N = 1..NETLAB_K8S_HOSTS, default 2): eth0
#        198.18.250.(10+N) on br0, its own containerd (own root, state and
#        socket: not the system's, which Docker uses) and a kubelet (node
#        netlab-hN), pods on 198.19.N.0/24 behind the bridge cni0, and
#        routes to the other hosts' pods. Each host also has a mount
#        namespace of its own in which the paths kubelet and containerd fix
#        (/var/lib/kubelet, /var/lib/cni, /var/log/pods, /var/log/containers,
#        /run/netns, /run/containerd) are folders of its own.
# The namespaces are entered with nsenter: `ip netns exec` remounts /sys,
# which hides the cgroup v1 hierarchies kubelet needs.
#
# What it changes on the host, and down undoes: the sysctls kubelet sets
# (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops: recorded before
# and restored), the empty mount points above where they were missing
# (removed), cgroups under /netlab-k8s in every hierarchy, the veth nlk8s0,
# $STATE (/var/lib/netlab-k8s) and $RUN (/run/netlab-k8s). The binaries stay
# cached in /var/cache/netlab/k8s.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${NETLAB_K8S_STATE:-/var/lib/netlab-k8s}
RUN=/run/netlab-k8s
HOSTS=${NETLAB_K8S_HOSTS:-2}
CG=netlab-k8s                       # the cgroup under every v1 hierarchy
CGFS=/sys/fs/cgroup
HOSTNET=198.18.250                  # br0: .1 the control plane, .(10+N) host N
UPLINK_HOST=198.18.249.1            # the host's end of nlk8s0
UPLINK_CP=198.18.249.2              # the control plane's end
PODNET=198.19                       # host N's pods: 198.19.N.0/24
SVCNET=198.18.240.0/24              # services (no kube-proxy: only the API's own)
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
FIXED=(/var/lib/kubelet /var/lib/cni /var/log/pods /var/log/containers /run/netns /run/containerd)
PAUSE_IMAGE=netlab.local/pause:1
TINY_IMAGE=netlab.local/tiny:1

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'k8s-cluster: %s\n' "$*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "run as root (sudo $0 $*)"; }

# in_ns NAME CMD...: CMD in the namespaces of NAME (cp, h1, h2, ...).
in_ns() {
  local n=$1; shift
  local args=(--net="$RUN/ns/$n.net")
  [ -e "$RUN/ns/$n.mnt" ] && args+=(--mount="$RUN/ns/$n.mnt")
  nsenter "${args[@]}" -- "$@"
}

# close_fds: close every descriptor above 2 of this (sub)shell, so that what
# it starts in the background holds none it inherited (a caller's lock file,
# say: flock's descriptor would stay locked while the daemons run).
close_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
  done
  return 0
}

# ns_holder NAME: the pid of a short-lived process in NAME's network
# namespace, for `ip link ... netns PID` (ip names namespaces by pid or
# /run/netns name only).
ns_holder() {
  local f=$RUN/ns/$1.net pid want
  (close_fds; exec nsenter --net="$f" -- sleep 60) >/dev/null 2>&1 </dev/null &
  pid=$!
  want="net:[$(stat -L -c %i "$f")]"
  until [ "$(readlink "/proc/$pid/ns/net")" = "$want" ]; do sleep 0.05; done
  echo "$pid"
}

# daemon NAME GROUP CMD...: CMD in the background in GROUP's namespaces, in
# the pids cgroup /netlab-k8s/GROUP/daemons (so that down finds it and every
# process it starts), logging to $STATE/log/NAME.log.
daemon() {
  local name=$1 group=$2; shift 2
  local cg=$CGFS/pids/$CG/$group/daemons
  mkdir -p "$cg"
  local args=(--net="$RUN/ns/$group.net")
  [ -e "$RUN/ns/$group.mnt" ] && args+=(--mount="$RUN/ns/$group.mnt")
  (close_fds; exec setsid nsenter "${args[@]}" -- sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@") \
    >"$STATE/log/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/pid/$name"
}

# wait_for SECONDS WHAT CMD...: until CMD succeeds, or fail naming WHAT and its log.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "$what did not come up in ${secs}s; see $STATE/log/"
    sleep 0.5
  done
}

ensure_packages() {
  local pkgs=()
  command -v etcd >/dev/null || pkgs+=(etcd-server)
  command -v containerd >/dev/null || pkgs+=(containerd)
  command -v ctr >/dev/null || pkgs+=(containerd)
  command -v runc >/dev/null || [ -x /usr/sbin/runc ] || pkgs+=(runc)
  [ -x /usr/lib/cni/bridge ] || pkgs+=(containernetworking-plugins)
  command -v openssl >/dev/null || pkgs+=(openssl)
  command -v nsenter >/dev/null || pkgs+=(util-linux)
  [ -x /bin/busybox ] || pkgs+=(busybox-static)
  if [ ${#pkgs[@]} -gt 0 ]; then
    say "installing ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
}

# oci_archive OUT NAME ROOTFS ENTRYPOINT-JSON: an OCI image archive of one
# uncompressed layer, named NAME for `ctr images import`.
oci_archive() {
  local out=$1 name=$2 rootfs=$3 entry=$4 d
  d=$(mktemp -d)
  mkdir -p "$d/blobs/sha256"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$rootfs" -cf "$d/layer.tar" .
  local layer lsize config csize manifest msize
  layer=$(sha256sum "$d/layer.tar" | cut -d' ' -f1); lsize=$(stat -c %s "$d/layer.tar")
  mv "$d/layer.tar" "$d/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":["PATH=/bin:/sbin:/usr/bin:/usr/sbin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$entry" "$layer" >"$d/config"
  config=$(sha256sum "$d/config" | cut -d' ' -f1); csize=$(stat -c %s "$d/config")
  mv "$d/config" "$d/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$csize" "$layer" "$lsize" >"$d/manifest"
  manifest=$(sha256sum "$d/manifest" | cut -d' ' -f1); msize=$(stat -c %s "$d/manifest")
  mv "$d/manifest" "$d/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s"}}]}' \
    "$manifest" "$msize" "$name" >"$d/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
  tar --numeric-owner --owner=0 --group=0 -C "$d" -cf "$out" oci-layout index.json blobs
  rm -rf "$d"
}

build_images() {
  local d=$STATE/images
  mkdir -p "$d/pause/rootfs" "$d/tiny/rootfs/bin"
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$d/pause/rootfs/pause" ./k8s/cluster/pause)
  oci_archive "$d/pause.tar" "$PAUSE_IMAGE" "$d/pause/rootfs" '["/pause"]'
  # netlab.local/tiny: busybox, for the smoke test's pods.
  cp /bin/busybox "$d/tiny/rootfs/bin/busybox"
  for a in sh ip sleep cat ping grep; do ln -sf busybox "$d/tiny/rootfs/bin/$a"; done
  oci_archive "$d/tiny.tar" "$TINY_IMAGE" "$d/tiny/rootfs" '["/bin/sleep","infinity"]'
}

# cert NAME CN O EXT: a key and certificate signed by the cluster's CA.
cert() {
  local p=$STATE/pki name=$1 cn=$2 o=$3 ext=$4
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$p/$name.key" \
    -subj "${o:+/O=$o}/CN=$cn" -out "$p/$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$ext" >"$p/$name.ext"
  openssl x509 -req -in "$p/$name.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 30 -extfile "$p/$name.ext" -out "$p/$name.crt" 2>/dev/null
  rm -f "$p/$name.csr" "$p/$name.ext"
}

# kubeconfig FILE SERVER CERTNAME
kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: netlab-k8s
  cluster: {server: "$2", certificate-authority: "$STATE/pki/ca.crt"}
users:
- name: $3
  user: {client-certificate: "$STATE/pki/$3.crt", client-key: "$STATE/pki/$3.key"}
contexts:
- name: netlab-k8s
  context: {cluster: netlab-k8s, user: $3}
current-context: netlab-k8s
EOF
}

make_pki() {
  local p=$STATE/pki
  mkdir -p "$p"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$p/ca.key" \
    -subj /CN=netlab-k8s-ca -days 30 -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -out "$p/ca.crt" 2>/dev/null
  cert apiserver kube-apiserver "" "extendedKeyUsage=serverAuth
subjectAltName=IP:$HOSTNET.1,IP:$UPLINK_CP,IP:127.0.0.1,IP:${SVCNET%.*}.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "extendedKeyUsage=clientAuth"
  cert admin netlab-admin system:masters "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  kubeconfig "$STATE/admin.kubeconfig" "https://$UPLINK_CP:6443" admin
  kubeconfig "$STATE/cp.kubeconfig" "https://127.0.0.1:6443" admin
  local n
  for n in $(seq 1 "$HOSTS"); do
    cert "kubelet-h$n" "system:node:netlab-h$n" system:nodes "extendedKeyUsage=clientAuth,serverAuth
subjectAltName=IP:$HOSTNET.$((10 + n)),DNS:netlab-h$n"
    kubeconfig "$STATE/h$n/kubelet.kubeconfig" "https://$HOSTNET.1:6443" "kubelet-h$n"
  done
}

# cgroups: /netlab-k8s/{cp,hN} in every v1 hierarchy (kubelet's cgroupRoot
# must exist in each); cpuset's need the parent's cpus and mems.
make_cgroups() {
  local h g
  for h in "$CGFS"/*/; do
    h=${h%/}
    [ -e "$h/cgroup.procs" ] || continue
    for g in "" cp $(seq -f h%g 1 "$HOSTS"); do
      mkdir -p "$h/$CG/$g"
      if [ -e "$h/cpuset.cpus" ]; then
        cat "$h/cpuset.cpus" >"$h/$CG/$g/cpuset.cpus"
        cat "$h/cpuset.mems" >"$h/$CG/$g/cpuset.mems"
      fi
    done
  done
}

make_network() {
  mkdir -p "$RUN/ns"
  mount --bind "$RUN/ns" "$RUN/ns"
  mount --make-private "$RUN/ns"
  touch "$RUN/ns/cp.net"
  unshare --net="$RUN/ns/cp.net" true
  local cp n h hp
  cp=$(ns_holder cp)
  ip link add nlk8s0 type veth peer name uplink netns "$cp"
  ip addr add "$UPLINK_HOST/30" dev nlk8s0
  ip link set nlk8s0 up
  in_ns cp sh -ec "
    ip link set lo up
    ip addr add $UPLINK_CP/30 dev uplink; ip link set uplink up
    ip link add br0 type bridge; ip addr add $HOSTNET.1/24 dev br0; ip link set br0 up
    sysctl -qw net.ipv4.ip_forward=1"
  for n in $(seq 1 "$HOSTS"); do
    h=h$n
    mkdir -p "$STATE/$h/fs"
    local binds=""
    for p in "${FIXED[@]}"; do
      local src=$STATE/$h/fs/$(echo "${p#/}" | tr / -)
      mkdir -p "$src"
      binds+="mount --bind '$src' '$p'; "
    done
    touch "$RUN/ns/$h.net" "$RUN/ns/$h.mnt"
    # The new mount namespace starts as a copy of the host's mounts: keep
    # only /, the kernel's filesystems and /run/netns; a copy of another
    # lab's or container's namespace file or root would keep it alive after
    # its owner removed it.
    unshare --net="$RUN/ns/$h.net" --mount="$RUN/ns/$h.mnt" --propagation slave sh -ec "
      awk '{print \$5}' /proc/self/mountinfo | grep -vxE '/|/proc|/sys|/sys/.*|/dev|/dev/.*|/run/netns' |
        sort -r | while read -r m; do umount -l \"\$m\" || true; done
      $binds"
    hp=$(ns_holder "$h")
    in_ns cp ip link add "$h" type veth peer name eth0 netns "$hp"
    in_ns cp sh -ec "ip link set $h master br0; ip link set $h up; ip route add $PODNET.$n.0/24 via $HOSTNET.$((10 + n))"
    local routes="" m
    for m in $(seq 1 "$HOSTS"); do
      [ "$m" = "$n" ] || routes+="ip route add $PODNET.$m.0/24 via $HOSTNET.$((10 + m)); "
    done
    in_ns "$h" sh -ec "
      ip link set lo up
      ip addr add $HOSTNET.$((10 + n))/24 dev eth0; ip link set eth0 up
      ip route add default via $HOSTNET.1
      $routes
      sysctl -qw net.ipv4.ip_forward=1"
    kill "$hp" 2>/dev/null || true
  done
  kill "$cp" 2>/dev/null || true
}

host_config() {
  local n=$1 h=h$1 d=$STATE/h$1
  mkdir -p "$d/cni" "$RUN/$h"
  cat >"$d/containerd.toml" <<EOF
version = 2
root = "$d/containerd"
state = "$RUN/$h/containerd"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$RUN/$h/containerd.sock"
[ttrpc]
  address = "$RUN/$h/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
EOF
  # No loopback plugin in the chain: containerd's CRI brings every pod's
  # lo up itself (a loopback network of its own before this one), so a
  # chained one ran the plugin a second time for each pod and each down.
  cat >"$d/cni/10-netlab.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "netlab-k8s", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$PODNET.$n.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
EOF
  : >"$d/resolv.conf"
  cat >"$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
# netlab's nodes set their own network's sysctls (net.ipv4.ip_forward is
# not in kubelet's safe list): namespaced, so safe for the host.
allowedUnsafeSysctls: ["net.*"]
cgroupDriver: cgroupfs
cgroupRoot: /$CG/$h
containerRuntimeEndpoint: unix://$RUN/$h/containerd.sock
address: $HOSTNET.$((10 + n))
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
tlsCertFile: $STATE/pki/kubelet-$h.crt
tlsPrivateKeyFile: $STATE/pki/kubelet-$h.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: AlwaysAllow}
resolvConf: $d/resolv.conf
failSwapOn: false
maxPods: 250
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
}

record_host() {
  if [ ! -e "$STATE/sysctl.before" ]; then
    local k
    for k in "${SYSCTLS[@]}"; do printf '%s=%s\n' "$k" "$(sysctl -n "$k")"; done >"$STATE/sysctl.before.tmp"
    mv "$STATE/sysctl.before.tmp" "$STATE/sysctl.before"
  fi
  local p
  for p in "${FIXED[@]}"; do
    if [ ! -e "$p" ]; then mkdir -p "$p"; echo "$p" >>"$STATE/created"; fi
  done
}

cmd_up() {
  need_root up
  [ ! -e "$RUN" ] || die "a cluster is up (or half up) already: $RUN exists; run '$0 down' first"
  local t0; t0=$(date +%s)
  ensure_packages
  say "building the Kubernetes binaries (cached)"
  local bins; bins=$("$ROOT/k8s/cluster/build/build.sh")
  local t1; t1=$(date +%s)
  mkdir -p "$STATE/log" "$RUN/pid"
  ln -sfn "$bins" "$STATE/bin"
  for n in $(seq 1 "$HOSTS"); do mkdir -p "$STATE/h$n"; done
  record_host
  say "building the pause image"
  build_images
  make_pki
  make_cgroups
  make_network
  local b=$STATE/bin
  say "starting the control plane"
  daemon etcd cp etcd --name netlab-k8s --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster netlab-k8s=http://127.0.0.1:2380
  wait_for 60 etcd in_ns cp bash -c 'exec 3<>/dev/tcp/127.0.0.1/2379'
  local p=$STATE/pki
  daemon kube-apiserver cp "$b/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$HOSTNET.1" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" --client-ca-file="$p/ca.crt" \
    --kubelet-client-certificate="$p/apiserver-kubelet-client.crt" --kubelet-client-key="$p/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$p/ca.crt" --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-cluster-ip-range="$SVCNET" --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true --enable-admission-plugins=NodeRestriction \
    --cert-dir="$STATE/pki/apiserver-out" --profiling=false
  wait_for 120 kube-apiserver "$b/kubectl" --kubeconfig "$STATE/admin.kubeconfig" get --raw /readyz
  daemon kube-controller-manager cp "$b/kube-controller-manager" --kubeconfig="$STATE/cp.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --service-account-private-key-file="$p/sa.key" \
    --root-ca-file="$p/ca.crt" --use-service-account-credentials=false --profiling=false
  daemon kube-scheduler cp "$b/kube-scheduler" --kubeconfig="$STATE/cp.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
  local n
  for n in $(seq 1 "$HOSTS"); do
    say "starting host h$n (containerd, kubelet)"
    host_config "$n"
    daemon "containerd-h$n" "h$n" containerd --config "$STATE/h$n/containerd.toml"
    wait_for 60 "containerd of h$n" in_ns "h$n" ctr --address "$RUN/h$n/containerd.sock" version
    local img
    for img in pause tiny; do
      in_ns "h$n" ctr --address "$RUN/h$n/containerd.sock" -n k8s.io images import "$STATE/images/$img.tar" >/dev/null
    done
    daemon "kubelet-h$n" "h$n" "$b/kubelet" --config="$STATE/h$n/kubelet.yaml" \
      --kubeconfig="$STATE/h$n/kubelet.kubeconfig" --hostname-override="netlab-h$n" --node-ip="$HOSTNET.$((10 + n))"
  done
  for n in $(seq 1 "$HOSTS"); do
    wait_for 120 "node netlab-h$n" "$b/kubectl" --kubeconfig "$STATE/admin.kubeconfig" get node "netlab-h$n"
  done
  wait_for 120 "nodes Ready" "$b/kubectl" --kubeconfig "$STATE/admin.kubeconfig" wait --for=condition=Ready node --all --timeout=5s
  wait_for 60 "the default service account" "$b/kubectl" --kubeconfig "$STATE/admin.kubeconfig" get serviceaccount default
  touch "$RUN/up"
  local t2; t2=$(date +%s)
  say "cluster up: $HOSTS hosts; binaries $((t1 - t0))s, start $((t2 - t1))s; memory $(cluster_rss_mb) MB"
  say "use it: eval \"\$($0 env)\"; kubectl get nodes"
}

# cluster_pids: every process of the cluster (its daemons and all they
# started, the pods included).
cluster_pids() {
  [ -d "$CGFS/pids/$CG" ] || return 0
  find "$CGFS/pids/$CG" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un
}

cluster_rss_mb() {
  local total=0 pid rss
  for pid in $(cluster_pids); do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${rss:-0}))
  done
  echo $((total / 1024))
}

cmd_down() {
  need_root down
  # Every process of the cluster, found by its pids cgroup (a pid file could
  # name a pid another process has taken since).
  local killed=""
  for _ in $(seq 1 40); do
    local pids
    pids=$(cluster_pids)
    [ -n "$pids" ] || break
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    killed+=" $pids"
    sleep 0.25
  done
  [ -z "$(cluster_pids)" ] || say "warning: processes still in $CGFS/pids/$CG: $(cluster_pids | tr '\n' ' ')"
  # A killed process leaves its cgroup as it exits, but stays in /proc
  # until its parent (init, for the daemons) reaps it: wait for that.
  local pid
  for _ in $(seq 1 40); do
    local left=""
    for pid in $killed; do [ -d "/proc/$pid" ] && left+=" $pid"; done
    killed=$left
    [ -n "$killed" ] || break
    sleep 0.25
  done
  [ -z "$killed" ] || say "warning: killed processes not reaped yet:$killed"
  ip link del nlk8s0 2>/dev/null || true
  # The namespaces' bind mounts, then any mount left under $RUN or $STATE.
  local m
  for m in $(awk -v r="$RUN" -v s="$STATE" '$5 ~ "^"r || $5 ~ "^"s {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || say "warning: cannot unmount $m"
  done
  # cgroups, deepest first (a cgroup goes once its last process has exited).
  local h
  for _ in $(seq 1 20); do
    local left=0
    for h in "$CGFS"/*/"$CG"; do
      [ -d "$h" ] || continue
      find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null || true
      [ -d "$h" ] && left=1
    done
    [ $left = 0 ] && break
    sleep 0.25
  done
  for h in "$CGFS"/*/"$CG"; do [ -d "$h" ] && say "warning: cgroup $h is left"; done
  if [ -e "$STATE/sysctl.before" ]; then
    local kv
    while read -r kv; do sysctl -qw "$kv"; done <"$STATE/sysctl.before"
  fi
  if [ -e "$STATE/created" ]; then
    local p
    while read -r p; do rmdir "$p" 2>/dev/null || say "warning: $p is not empty; left as it is"; done <"$STATE/created"
  fi
  if grep -qE " ($RUN|$STATE)[/ ]" /proc/self/mountinfo; then
    die "mounts under $RUN or $STATE are left; not removing them"
  fi
  rm -rf --one-file-system "$RUN" "$STATE"
  say "cluster down"
}

cmd_status() {
  if [ ! -e "$RUN" ]; then echo "down"; return 3; fi
  local f name pid state
  for f in "$RUN"/pid/*; do
    name=$(basename "$f"); pid=$(cat "$f")
    if [ -d "/proc/$pid" ]; then state=running; else state=dead; fi
    printf '%-26s %-8s pid %s\n' "$name" "$state" "$pid"
  done
  [ -e "$RUN/up" ] || echo "(up did not finish)"
  "$STATE/bin/kubectl" --kubeconfig "$STATE/admin.kubeconfig" get nodes -o wide || true
  echo "memory (RSS of every process of the cluster): $(cluster_rss_mb) MB in $(cluster_pids | wc -l) processes"
}

cmd_env() {
  [ -e "$RUN/up" ] || die "no cluster is up; run '$0 up'"
  printf 'export KUBECONFIG=%q\nexport PATH=%q:"$PATH"\n' "$STATE/admin.kubeconfig" "$STATE/bin"
}

cmd_load() {
  need_root load
  [ -e "$RUN/up" ] || die "no cluster is up; run '$0 up'"
  local tar=${1:?usage: $0 load IMAGE.tar} n
  for n in $(seq 1 "$HOSTS"); do
    in_ns "h$n" ctr --address "$RUN/h$n/containerd.sock" -n k8s.io images import "$tar"
  done
}

# load-docker IMAGE...: docker save the images that the hosts have not
# imported under their present ids yet, in one archive (images built on one
# base share its layers: one archive holds them once), and import it into
# every host. An image's id (its config's digest) changes whenever it is
# rebuilt, so a stamp per id in $STATE/images is an exact cache; it goes
# with the cluster.
cmd_load_docker() {
  need_root load-docker
  [ -e "$RUN/up" ] || die "no cluster is up; run '$0 up'"
  [ $# -gt 0 ] || die "usage: $0 load-docker IMAGE..."
  mkdir -p "$STATE/images"
  local image id tar
  local todo=() ids=()
  for image in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$image") || die "image $image is not in the Docker engine: build or pull it first"
    id=${id#sha256:}
    if [ -e "$STATE/images/$id" ]; then
      say "image $image (${id:0:12}) is on the hosts already"
      continue
    fi
    todo+=("$image")
    ids+=("$id")
  done
  [ ${#todo[@]} -gt 0 ] || return 0
  tar=$(mktemp "$STATE/images/.load.XXXXXX")
  docker save -o "$tar" "${todo[@]}"
  cmd_load "$tar"
  rm -f "$tar"
  local i
  for i in "${!todo[@]}"; do echo "${todo[$i]}" >"$STATE/images/${ids[$i]}"; done
}

# agent [BIN]: netlab's agent (k8s/agent.yaml) on every host, its image
# netlab/agent:1 built from BIN/netlab and BIN/netlab-init (default bin/,
# what make build makes) and loaded into the hosts; its pods made again
# when the image changed, and waited for.
cmd_agent() {
  need_root agent
  [ -e "$RUN/up" ] || die "no cluster is up; run '$0 up'"
  local bin=${1:-$ROOT/bin} k=("$STATE/bin/kubectl" --kubeconfig "$STATE/admin.kubeconfig")
  [ -x "$bin/netlab" ] && [ -x "$bin/netlab-init" ] || die "no $bin/netlab and $bin/netlab-init: make build first"
  say "building netlab/agent:1 from $bin"
  # A context of the two files alone (BIN may hold more: the tests' run
  # directory holds their temporary files).
  local ctx id
  ctx=$(mktemp -d)
  cp "$bin/netlab" "$bin/netlab-init" "$ctx/"
  docker build -q -f "$ROOT/k8s/agent.Dockerfile" -t netlab/agent:1 "$ctx" >/dev/null || { rm -rf "$ctx"; die "could not build netlab/agent:1"; }
  rm -rf "$ctx"
  id=$(docker image inspect --format '{{.Id}}' netlab/agent:1)
  cmd_load_docker netlab/agent:1
  "${k[@]}" apply -f "$ROOT/k8s/agent.yaml" >/dev/null
  # The image's id in the pods' template: a new image makes the pods again
  # (the same id changes nothing).
  "${k[@]}" -n netlab-system patch daemonset/netlab-agent --type merge \
    -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"netlab.image\":\"${id#sha256:}\"}}}}}" >/dev/null
  "${k[@]}" -n netlab-system rollout status daemonset/netlab-agent --timeout=120s >&2
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  load) shift; cmd_load "$@" ;;
  load-docker) shift; cmd_load_docker "$@" ;;
  agent) shift; cmd_agent "$@" ;;
  *) die "usage: $0 up|down|status|env|load IMAGE.tar|load-docker IMAGE...|agent [BIN]" ;;
esac
