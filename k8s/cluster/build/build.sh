#!/usr/bin/env bash
# Builds the test cluster's Kubernetes binaries (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kubectl) from the release
# this folder's go.mod pins, fetched from the Go module proxy, and prints the
# folder that holds them. The folder is named for a hash of go.mod, go.sum and
# this script, under ${NETLAB_K8S_CACHE:-/var/cache/netlab/k8s}: a second run
# with the same inputs builds nothing. The build runs at nice 19 (it takes
# about 18 minutes on 2 cores cold) so that other work keeps the CPU.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${NETLAB_K8S_CACHE:-/var/cache/netlab/k8s}
key=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)
out=$cache/bin-$key
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

if [ -f "$out/.done" ]; then echo "$out"; exit 0; fi

version=$(cd "$here" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
major=${version#v}; major=${major%%.*}
minor=${version#v*.}; minor=${minor%%.*}
ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/build.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
pkgs=()
for b in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
start=$(date +%s)
echo "build.sh: building Kubernetes $version (${bins[*]}) into $out at nice 19" >&2
(cd "$here" && CGO_ENABLED=0 GOFLAGS=-mod=readonly nice -n 19 go build -trimpath -ldflags "$ld" -o "$tmp/" "${pkgs[@]}")
touch "$tmp/.done"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "build.sh: built in $(( $(date +%s) - start ))s: $(du -sh "$out" | cut -f1)" >&2
echo "$out"
