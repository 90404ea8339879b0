#!/usr/bin/env bash
# Installs what netlab needs on Debian and starts the Docker engine:
# docker.io, runc (the runc runtime), nftables, iptables, busybox-static, tcpdump (netlab capture's
# filter compiler), and for the playground's images and checks mmdebstrap,
# openssl and openssh-client; with --tests also what only the tests use,
# chromium for the class server's browser test (150 MB of packages, a minute
# or more of a fresh machine's set-up that the playground does not need);
# then builds the tiny node image (netlab/tiny) from busybox-static with
# `docker import` (no registry is needed). Safe to run again: it does only
# what is missing. --image-tools installs only mmdebstrap, openssl and
# openssh-client (what the image builds need) and returns.
#   scripts/setup.sh [--tests | --image-tools]
set -euo pipefail
tests=false
image_tools=false
case "${1:-}" in
--tests) tests=true ;;
--image-tools) image_tools=true ;;
esac

say() { printf '== %s\n' "$*"; }
need_root() { [ "$(id -u)" = 0 ] || { echo "setup: run as root (sudo $0)" >&2; exit 1; }; }

# apt_install PKG...: apt-get install, after apt-get update unless netlab's
# scripts updated apt's lists within the hour (bootstrap.sh, or the
# --image-tools run that make fopnp starts first, just did).
apt_install() {
  need_root
  say "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(find "$apt_stamp" -mmin -60 2>/dev/null)" ]; then
    apt-get update -qq
    mkdir -p "$(dirname "$apt_stamp")" && touch "$apt_stamp"
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
apt_stamp=/var/lib/netlab/apt-updated

# --image-tools: only what the image families' builds need (their Debian
# roots, keys and certificates), so that make fopnp builds the playground's
# root while Docker and the rest are installed (run first; apt takes one
# install at a time).
pkgs=()
command -v mmdebstrap >/dev/null || pkgs+=(mmdebstrap) # builds the image families' Debian roots
command -v openssl >/dev/null || pkgs+=(openssl)
command -v ssh-keygen >/dev/null && command -v ssh >/dev/null || pkgs+=(openssh-client)
if $image_tools; then
  [ ${#pkgs[@]} = 0 ] || apt_install "${pkgs[@]}"
  exit 0
fi
command -v dockerd >/dev/null || pkgs+=(docker.io)
command -v runc >/dev/null || [ -x /usr/sbin/runc ] || pkgs+=(runc) # the runc runtime (docker.io pulls it in too)
command -v ip >/dev/null || pkgs+=(iproute2) # the tests look at the host's interfaces with ip
command -v nft >/dev/null || pkgs+=(nftables)
command -v iptables >/dev/null || pkgs+=(iptables)
command -v ping >/dev/null || pkgs+=(iputils-ping) # the tests ping a node over a host link
# netlab capture compiles tcpdump-syntax filters with tcpdump (libpcap's compiler).
command -v tcpdump >/dev/null || [ -x /usr/sbin/tcpdump ] || [ -x /usr/bin/tcpdump ] || pkgs+=(tcpdump)
# The class server's browser test (tests/serve_test.go) drives headless Chromium.
$tests && { command -v chromium >/dev/null || pkgs+=(chromium); }
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || pkgs+=(busybox-static)
[ ${#pkgs[@]} = 0 ] || apt_install "${pkgs[@]}"

if ! docker info >/dev/null 2>&1; then
  need_root
  say "starting dockerd"
  if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then :; else
    mkdir -p /var/log
    nohup dockerd >/var/log/netlab-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/netlab-dockerd.log" >&2; exit 1; }
fi

"$(dirname "$0")/build-tiny.sh"
