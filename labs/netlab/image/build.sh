#!/usr/bin/env bash
# Builds the course labs' images without a registry, like the playground's:
# a Debian root made by mmdebstrap from Debian's packages (downloaded on
# the host, never inside a lab), configured in a chroot and imported as
# netlab/debian; netlab/host and netlab/router are that root with their
# role's start command (labs/netlab/image/overlay/usr/local/sbin/netlab-start).
# Cached: nothing is rebuilt while this folder is unchanged, the root is kept
# while packages.txt is unchanged, and downloaded packages are shared with
# the other image families (/var/cache/netlab/debs), so a second family
# downloads only the packages it adds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../../scripts/debootstrap-image.sh
. "$here/../../../scripts/debootstrap-image.sh"
cache=${NETLAB_CACHE:-/var/cache/netlab}/netlab
roles=(host router)

image_need_root

inputs=$(image_inputs "$here")
current=1
for r in "${roles[@]}"; do
  [ "$(docker image inspect -f '{{index .Config.Labels "netlab.inputs"}}' netlab/$r 2>/dev/null)" = "$inputs" ] || current=0
done
if [ $current = 1 ]; then
  echo "netlab images are up to date ($inputs)"
  exit 0
fi

step() { printf '== [%s/4] %s\n' "$1" "$2"; }
image_root "$here" "$cache"
if [ "$image_root_built" = 1 ]; then # superseded roots
  find "$cache" -maxdepth 1 -name 'root-*.tar' ! -name "$(basename "$image_pristine")" -delete
fi

step 2 "configure the root: FRR, start command"
work=$(mktemp -d "$cache/work.XXXX")
image_scratch "$work"
# The chroot's /proc by name first: image_scratch_done finds mounts in
# /proc/self/mounts, which escapes a path with spaces.
cleanup() { umount "$work/root/proc" 2>/dev/null || true; image_scratch_done "$work"; }
trap cleanup EXIT
image_unpack "$work" "$here"
image_configure "$work" "$here"

step 3 "import netlab/debian"
tar -C "$work/root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c "LABEL netlab.inputs=$inputs" \
  -c 'CMD ["/usr/local/sbin/netlab-start", "host"]' - netlab/debian >/dev/null

# The capabilities each image's programs need beyond a node's defaults
# (NET_ADMIN, NET_RAW): FRR's daemons exit at once without SYS_ADMIN.
# netlab adds them to the node's container (label netlab.cap_add).
declare -A caps=([host]="" [router]="SYS_ADMIN")

step 4 "images: ${roles[*]}"
for r in "${roles[@]}"; do
  printf 'FROM netlab/debian\nLABEL netlab.inputs=%s netlab.role=%s netlab.cap_add="%s"\nCMD ["/usr/local/sbin/netlab-start", "%s"]\n' "$inputs" "$r" "${caps[$r]}" "$r" \
    | docker build -q -t netlab/$r - >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
done
docker image prune -f --filter label=netlab.inputs >/dev/null # older builds
echo "netlab images built ($inputs): netlab/host, netlab/router, $(docker image inspect -f '{{.Size}}' netlab/debian | awk '{printf "%d MB", $1/1e6}')"
