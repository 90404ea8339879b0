#!/usr/bin/env bash
# Writes a Kathará builtin test signature for a node of a running lab, the
# way Kathará's `ltest` made _test/signature/NODE.builtin: the node's
# interfaces (name, ADDR/LEN of each address, operstate) from ip -j addr
# show, its routes as ip -j route show prints them, netstat -tuwln's lines
# without Docker's resolver (127.0.0.11) and the two header lines, sorted,
# and ps -e -o command's lines without the header, sorted; JSON indented by
# four spaces. How the fixtures' signatures were made:
#
#   sudo netlab up convert/testdata/kathara/static
#   convert/testdata/kathara/builtin-signature.sh static r1 > convert/testdata/kathara/static/_test/signature/r1.builtin
#
# Needs netlab and jq on the host.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 LAB NODE > NODE.builtin" >&2; exit 2; }
lab=$1 node=$2
run() { netlab exec "$lab" "$node" -- sh -c "$1"; }
addr=$(run 'ip -j addr show')
route=$(run 'ip -j route show')
ports=$(run 'netstat -tuwln' | grep -v '127\.0\.0\.11' | tail -n +3 | LC_ALL=C sort)
procs=$(run 'ps -e -o command' | tail -n +2 | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | LC_ALL=C sort)
jq -n --indent 4 \
  --argjson addr "$addr" --argjson route "$route" \
  --arg ports "$ports" --arg procs "$procs" '{
    interfaces: ($addr | map({key: .ifname, value: {
      ip_addresses: [.addr_info[] | "\(.local)/\(.prefixlen)"], state: .operstate}}) | from_entries),
    route: $route,
    listening_ports: ($ports | split("\n") | map(select(. != ""))),
    processes: ($procs | split("\n") | map(select(. != "")))
  }'
