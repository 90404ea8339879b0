#!/bin/sh
# The README's first two commands go through here: on a fresh Debian machine
# it installs what make and the build need (make, and Go from the Go module
# proxy when the machine has none or an older one than go.mod asks for),
# then runs `make TARGET...` as root. Run it as root, or as a user with sudo:
#   sh scripts/bootstrap.sh fopnp      sh scripts/bootstrap.sh test
set -eu
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "bootstrap: run this as root (sudo is not installed)" >&2; exit 1; }
  exec sudo sh "$0" "$@"
fi
cd "$(dirname "$0")/.."

# The toolchain netlab is built and tested with; GOTOOLCHAIN names it too.
GO_VERSION=1.26.8 # and go_zip_sha256 below with it
export PATH="/usr/local/go/bin:$PATH"

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  # The stamp tells setup.sh, which make runs next, that the lists are new.
  [ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; mkdir -p /var/lib/netlab; touch /var/lib/netlab/apt-updated; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# go_ok: a Go at least as new as go.mod's `go` line.
go_ok() {
  command -v go >/dev/null 2>&1 || return 1
  have=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  want=$(sed -n 's/^go //p' go.mod)
  [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]
}

# go_zip_sha256 ARCH: the SHA-256 of Go $GO_VERSION's zip for ARCH on the
# Go module proxy (the module golang.org/toolchain), taken from the zips
# that `go mod download` fetched and checked against the Go checksum
# database (h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM= and
# h1:sYL/O6MqS68ML0kjsQ36WoYIpJqkw60TxizWUYUKQMc=); nothing for another.
go_zip_sha256() {
  case "$1" in
  amd64) echo 30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7 ;;
  arm64) echo 02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99 ;;
  esac
}

need=""
command -v make >/dev/null 2>&1 || need="make"
if go_ok; then
  [ -z "$need" ] || { echo "== installing $need"; apt_install $need; }
else
  echo "== installing Go $GO_VERSION from the Go module proxy"
  arch=$(dpkg --print-architecture)
  sum=$(go_zip_sha256 "$arch")
  tmp=$(mktemp -d)
  if [ -n "$sum" ]; then
    # The zip by apt's own downloader (in every Debian), checked against
    # the hash above; no Debian Go (81 MB) is installed to fetch it.
    command -v unzip >/dev/null 2>&1 || need="$need unzip"
    dpkg -s ca-certificates >/dev/null 2>&1 || need="$need ca-certificates"
    [ -z "$need" ] || apt_install $need
    chown _apt "$tmp" 2>/dev/null || true # apt downloads as _apt where it can
    /usr/lib/apt/apt-helper download-file \
      "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$arch.zip" "$tmp/go.zip" "SHA256:$sum"
    # Without the standard library's test data (4,061 of 11,518 files, all
    # in src), which only testing Go itself reads (unzip's * crosses
    # slashes); the sources and the rest by two unzips at once (2.0-3.2 s
    # against 2.7-5.5 s for one, on 2 cores): nothing else runs yet.
    unzip -q "$tmp/go.zip" -d "$tmp" "*/src/*" -x "*/testdata/*" &
    unzip -q "$tmp/go.zip" -d "$tmp" -x "*/src/*"
    wait $!
    rm -rf /usr/local/go
    mv "$tmp/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" /usr/local/go
  else
    # Another architecture: Debian's Go fetches it, checked against the
    # Go checksum database.
    command -v go >/dev/null 2>&1 || need="$need golang-go ca-certificates"
    [ -z "$need" ] || apt_install $need
    (cd "$tmp" && GOPATH="$tmp/gopath" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
      go mod download -json "golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" >/dev/null)
    rm -rf /usr/local/go
    cp -a "$tmp/gopath/pkg/mod/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" /usr/local/go
    # The module cache keeps no file modes: the programs made runnable
    # again, as go itself does when it switches toolchains.
    chmod -R u+w /usr/local/go
    chmod -R a+x /usr/local/go/bin /usr/local/go/pkg/tool
  fi
  rm -rf "$tmp"
  go version
fi

exec make "$@"
