#!/usr/bin/env bash
# Measures the class server under a class: STUDENTS (30) students each
# start the same 8-node lab through the HTTP API within SPREAD (10)
# seconds, each with their page (the lab's event stream) open, on each
# runtime in ${RUNTIMES:-runc docker}. Per runtime it prints a row:
#   up:        from the first start pressed to the last page showing its
#              eight nodes running and wired (pushed by the server)
#   last answer: from the first start pressed to the last start request
#              answered (its up done): up minus this is the page's lag
#   answer:    the slowest start request's answer
#   terminal:  a terminal opened on a node of every lab at once, a command
#              typed, its output read: median / slowest
#   memory:    the server's resident memory idle with the pages open /
#              peak once every lab is up / peak at the end (VmHWM)
#   to pages:  a link's carrier dropped on the host side (ip link set
#              down), until each of 30 pages open on that lab has the
#              state event that shows it: median / slowest
#   load:      the load average at the end
# MAX_STARTS, if set, is the server's --max-starts (labs brought up at
# once).
# The measurement is TestServeLoad (tests/serveload_test.go), run by the
# e2e harness (it builds netlab and removes every lab it made). Run it
# alone: flock /tmp/netlab-heavy.lock scripts/bench-serve.sh
# Needs root, Docker, runc, the netlab/tiny image.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "| runtime | labs | up (last page) | last answer | slowest answer | terminal median / slowest | server memory idle / up / peak | state change to 30 pages median / slowest | load average |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for rt in ${RUNTIMES:-runc docker}; do
  out=$(NETLAB_E2E=1 NETLAB_BENCH=1 NETLAB_RUNTIME=$rt STUDENTS=${STUDENTS:-30} SPREAD=${SPREAD:-10} MAX_STARTS=${MAX_STARTS:-} \
    go test -count=1 -timeout 30m -run '^TestServeLoad$' -v ./tests 2>&1) || { echo "$out" | tail -40 >&2; echo "| $rt | failed, see above | | | | | | | |"; continue; }
  echo "$out" | sed -n 's/^ROW //p'
done
