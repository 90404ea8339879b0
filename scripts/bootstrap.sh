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
GO_VERSION=1.26.8
export PATH="/usr/local/go/bin:$PATH"

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  [ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v make >/dev/null 2>&1 || { echo "== installing make"; apt_install make; }

# go_ok: a Go at least as new as go.mod's `go` line.
go_ok() {
  command -v go >/dev/null 2>&1 || return 1
  have=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  want=$(sed -n 's/^go //p' go.mod)
  [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]
}
if ! go_ok; then
  echo "== installing Go $GO_VERSION from the Go module proxy"
  command -v go >/dev/null 2>&1 || apt_install golang-go ca-certificates
  arch=$(dpkg --print-architecture)
  tmp=$(mktemp -d)
  (cd "$tmp" && GOPATH="$tmp/gopath" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
    go mod download -json "golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" >/dev/null)
  rm -rf /usr/local/go
  cp -a "$tmp/gopath/pkg/mod/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" /usr/local/go
  chmod -R u+w /usr/local/go
  rm -rf "$tmp"
  go version
fi

exec make "$@"
