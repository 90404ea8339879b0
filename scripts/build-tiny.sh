#!/usr/bin/env bash
# Builds netlab/tiny: busybox-static as a 2 MB image, imported (no registry).
# It has sh, ip, ping, ping6, nc, httpd, wget, telnet, udhcpc, traceroute...
# Rebuilt only when the busybox binary changes.
set -euo pipefail
bb=/bin/busybox
sum=$(sha256sum "$bb" | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "netlab.busybox"}}' netlab/tiny 2>/dev/null)" = "$sum" ]; then
  exit 0
fi
echo "== building image netlab/tiny from $bb"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,var/run,proc,sys,dev,www}
cp "$bb" "$root/bin/busybox"
for app in $("$bb" --list); do
  [ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
tar -C "$root" -c . | docker import \
  -c 'CMD ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]' \
  -c "LABEL netlab.busybox=$sum" \
  -c 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
  - netlab/tiny >/dev/null
docker image prune -f --filter label=netlab.busybox >/dev/null # earlier builds
