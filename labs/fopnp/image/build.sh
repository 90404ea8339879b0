#!/usr/bin/env bash
# Builds the playground's images without a registry: a Debian root made by
# mmdebstrap from Debian's packages (downloaded on the host, never inside a
# lab), configured in a chroot, imported as fopnp/rootfs; then fopnp/base,
# dns, ftp, mail and www, each that root with its role's start command.
# Cached: nothing is rebuilt while the inputs (this folder) are unchanged,
# and the downloaded root is kept while packages.txt is unchanged.
#
# build.sh --oci DIR needs no Docker engine: it writes the same images as an
# OCI image layout in DIR instead, one manifest per role tagged with its name
# and all sharing one layer, for the runc runtime (image: oci:DIR:www).
# build.sh --root makes (or finds cached) the Debian root only, and needs
# no Docker engine either: make fopnp runs it while Docker is installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../../scripts/debootstrap-image.sh
. "$here/../../../scripts/debootstrap-image.sh"
cache=${NETLAB_CACHE:-/var/cache/netlab}/fopnp
roles=(base dns ftp mail www)
oci=
root_only=false
if [ "${1:-}" = --oci ]; then
  oci=${2:?build: --oci needs a directory}
  oci=$(realpath -m "$oci")
elif [ "${1:-}" = --root ]; then
  root_only=true
fi

image_need_root
command -v openssl >/dev/null || apt-get install -y -qq openssl >/dev/null

inputs=$(image_inputs "$here")
current=1
for r in "${roles[@]}"; do
  if [ -n "$oci" ]; then
    [ "$(cat "$oci/fopnp.inputs" 2>/dev/null)" = "$inputs" ] || current=0
  else
    [ "$(docker image inspect -f '{{index .Config.Labels "fopnp.inputs"}}' fopnp/$r 2>/dev/null)" = "$inputs" ] || current=0
  fi
done
if [ $current = 1 ]; then
  echo "fopnp images are up to date ($inputs)${oci:+ in $oci}"
  exit 0
fi

step() { printf '== [%s/5] %s\n' "$1" "$2"; }
image_root "$here" "$cache"
$root_only && exit 0

step 2 "keys and certificates (playground CA)"
pki="$cache/pki"
mkdir -p "$pki"
if [ ! -f "$pki/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=fopnp playground CA" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
fi
for s in www mail; do
  if [ ! -f "$pki/$s.crt" ]; then
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$s.example.com" -keyout "$pki/$s.key" -out "$pki/$s.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s.example.com,DNS:%s\n' "$s" "$s" >"$pki/$s.ext"
    openssl x509 -req -in "$pki/$s.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      -days 3650 -extfile "$pki/$s.ext" -out "$pki/$s.crt" 2>/dev/null
  fi
done
[ -f "$pki/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C 'root@fopnp' -f "$pki/id_ed25519" 2>/dev/null \
  || { apt-get install -y -qq openssh-client >/dev/null; ssh-keygen -q -t ed25519 -N '' -C 'root@fopnp' -f "$pki/id_ed25519"; }

step 3 "configure the root: users, keys, CA, postfix, dovecot, vsftpd, nginx, dnsmasq"
work=$(mktemp -d "$cache/work.XXXX")
image_scratch "$work"
# The chroot's /proc by name first: image_scratch_done finds mounts in
# /proc/self/mounts, which escapes a path with spaces.
cleanup() { umount "$work/root/proc" 2>/dev/null || true; image_scratch_done "$work"; rm -rf ${out:+"$out"}; }
trap cleanup EXIT
image_unpack "$work" "$here"
ln -sf ../sites-available/default "$work/root/etc/nginx/sites-enabled/default"
mkdir -p "$work/root/tmp/fopnp-build"
cp "$pki"/{ca.crt,www.crt,www.key,mail.crt,mail.key,id_ed25519,id_ed25519.pub} "$here/brandon.mbox" "$work/root/tmp/fopnp-build/"
image_configure "$work" "$here"

path='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
if [ -n "$oci" ]; then
  # An OCI image layout (image-spec v1.1 image-layout.md): blobs named by
  # their sha256; one uncompressed layer, a config and a manifest per role;
  # index.json tags each manifest with its role. Written beside DIR, then
  # moved into place.
  step 4 "OCI image layout: ${roles[*]}"
  out=$(mktemp -d "$(dirname "$oci")/.oci.XXXX")
  mkdir -p "$out/blobs/sha256"
  blob() { # FILE: moves it to the blobs, prints "sha256:HEX SIZE"
    local h s
    h=$(sha256sum "$1" | cut -c1-64)
    s=$(stat -c %s "$1")
    mv "$1" "$out/blobs/sha256/$h"
    echo "sha256:$h $s"
  }
  tar -C "$work/root" --numeric-owner --xattrs --xattrs-include='*' -cf "$out/layer" .
  read -r layer lsize < <(blob "$out/layer")
  arch=$(dpkg --print-architecture) # amd64, arm64: Debian's names are OCI's
  manifests=
  for r in "${roles[@]}"; do
    printf '{"architecture":"%s","os":"linux","config":{"Env":["%s"],"Cmd":["/usr/local/sbin/fopnp-start","%s"],"Labels":{"fopnp.inputs":"%s","fopnp.role":"%s"}},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
      "$arch" "$path" "$r" "$inputs" "$r" "$layer" >"$out/config"
    read -r config csize < <(blob "$out/config")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
      "$config" "$csize" "$layer" "$lsize" >"$out/manifest"
    read -r manifest msize < <(blob "$out/manifest")
    manifests+="${manifests:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$manifest\",\"size\":$msize,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$r\"}}"
  done
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}\n' "$manifests" >"$out/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}\n' >"$out/oci-layout"
  echo "$inputs" >"$out/fopnp.inputs"
  chmod 755 "$out"
  rm -rf "$oci"
  mv "$out" "$oci"
  echo "fopnp OCI layout written ($inputs): $oci, $(du -sm "$oci" | cut -f1) MB; use image: oci:$oci:ROLE (${roles[*]})"
  echo "root's key for ssh from the host: $pki/id_ed25519 (or password abc123)"
  exit 0
fi

step 4 "import fopnp/rootfs"
tar -C "$work/root" -c . | docker import \
  -c "ENV $path" \
  -c "LABEL fopnp.inputs=$inputs" \
  -c 'CMD ["/usr/local/sbin/fopnp-start", "base"]' - fopnp/rootfs >/dev/null

step 5 "images: ${roles[*]}"
# At once: each is a label and a command over the same layer, and a build
# is mostly the engine's own round trips.
pids=()
for r in "${roles[@]}"; do
  printf 'FROM fopnp/rootfs\nLABEL fopnp.inputs=%s fopnp.role=%s\nCMD ["/usr/local/sbin/fopnp-start", "%s"]\n' "$inputs" "$r" "$r" \
    | docker build -q -t fopnp/$r - >"$work/build-$r.log" 2>&1 &
  pids+=($!)
done
for i in "${!roles[@]}"; do
  wait "${pids[$i]}" || { cat "$work/build-${roles[$i]}.log" >&2; exit 1; }
done
# Older builds lost their tags to these: remove them.
docker image prune -f --filter label=fopnp.inputs >/dev/null
echo "fopnp images built ($inputs): $(docker image inspect -f '{{.Size}}' fopnp/rootfs | awk '{printf "%d MB", $1/1e6}')"
echo "root's key for ssh from the host: $pki/id_ed25519 (or password abc123)"
