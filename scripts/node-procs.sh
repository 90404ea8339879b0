#!/usr/bin/env bash
# The processes of a lab's nodes on this machine, one line each: "NODE PID"
# (every process in the node's PID namespace, its first one included).
# The benchmarks read their memory and CPU from /proc by it. Usage:
#   scripts/node-procs.sh LAB
# Needs root, nodes on the runc or Docker runtime, jq; netlab in bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=$1
nl=$PWD/bin/netlab
# Each node's first process, by its runtime.
$nl status --json "$lab" | jq -r '.[][] | "\(.node) \(.runtime // "runc")"' | while read -r node rt; do
  if [ "$rt" = docker ]; then
    echo "$node $(docker inspect -f '{{.State.Pid}}' "${lab}_$node")"
  else
    echo "$node $(runc --root /run/netlab/.runc state "${lab}_$node" | jq -r .pid)"
  fi
done | python3 -c '
import os, sys
ns_node = {}
for line in sys.stdin:
    node, pid = line.split()
    try:
        ns_node[os.readlink(f"/proc/{pid}/ns/pid")] = node
    except OSError:
        pass  # ended meanwhile
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        node = ns_node.get(os.readlink(f"/proc/{p}/ns/pid"))
    except OSError:
        continue  # gone meanwhile
    if node is not None:
        print(node, p)
'
