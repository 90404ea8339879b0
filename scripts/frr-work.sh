#!/usr/bin/env bash
# What a lab's FRR routers did, read once (after bench-internet.sh's matrix
# is full, say): for each FRR process name (zebra, bgpd, ospfd, staticd,
# watchfrr) the routers' CPU seconds, user and system, summed from
# /proc/PID/stat; the routers' cgroups' cpuacct (every process a router ran,
# the start's shells and vtysh included); and what BGP did: per router the
# UPDATE messages received and sent (show bgp neighbors json), the prefixes
# in its BGP table and the routes in its kernel table. Usage:
#   scripts/frr-work.sh LAB [NODE...]
# NODEs (default: every router) limit the BGP reads, one netlab exec each.
# Needs root, runc or Docker nodes, cgroup v1's cpuacct; netlab in bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=$1
nl=$PWD/bin/netlab
scripts/node-procs.sh "$lab" | LAB=$lab python3 -c '
import os, sys, statistics
lab = os.environ["LAB"]
hz = os.sysconf("SC_CLK_TCK")
procs = [line.split() for line in sys.stdin]  # node, pid
by = {}      # comm -> [count, user, sys]
routers = set()
daemons = ["bgpd", "ospfd", "zebra", "staticd", "watchfrr"]
started, per = {}, {}  # router -> its bgpd start (s since boot); -> daemon -> CPU-s
for node, p in procs:
    try:
        with open(f"/proc/{p}/stat") as f:
            s = f.read()
    except OSError:
        continue
    comm = s[s.index("(") + 1:s.rindex(")")]
    f = s[s.rindex(")") + 2:].split()
    u, k = int(f[11]) / hz, int(f[12]) / hz
    if comm == "bgpd":
        routers.add(node)
        started[node] = int(f[19]) / hz
    if comm in daemons:
        per.setdefault(node, {})[comm] = u + k
    c = by.setdefault(comm, [0, 0.0, 0.0])
    c[0] += 1; c[1] += u; c[2] += k
n = max(len(routers), 1)
print(f"processes of the {len(routers)} routers (bgpd running), CPU-s summed over routers, and per router:")
print("| process | count | user | system | total | per router |")
print("|---|---|---|---|---|---|")
for comm, (cnt, u, k) in sorted(by.items(), key=lambda kv: -(kv[1][1] + kv[1][2])):
    if u + k < 0.05:
        continue
    print(f"| {comm} | {cnt} | {u:.1f} | {k:.1f} | {u + k:.1f} | {(u + k) / n:.3f} |")
# The CPU of the daemons by when the router started: in quarters of the routers
# by their bgpd start. Work that comes with the start of a router is the
# same in each; work that every start causes in the routers already
# running (convergence) falls most on the first.
order = sorted(started, key=started.get)
if len(order) >= 8:
    t0 = started[order[0]]
    print(f"routers by start (first to last bgpd: {started[order[-1]] - t0:.0f} s), daemons CPU-s per router:")
    print("| quarter | started | " + " | ".join(daemons) + " | all |")
    print("|---|---|" + "---|" * (len(daemons) + 1))
    q = len(order) // 4
    for i in range(4):
        part = order[i * q:(i + 1) * q] if i < 3 else order[3 * q:]
        cols = [statistics.mean(per.get(r, {}).get(d, 0) for r in part) for d in daemons]
        print(f"| {i + 1} | {started[part[0]] - t0:.0f}-{started[part[-1]] - t0:.0f} s | "
              + " | ".join(f"{c:.3f}" for c in cols) + f" | {sum(cols):.3f} |")
cg = "/sys/fs/cgroup/cpuacct/netlab"
tot, us, sy = [], 0, 0
for node in routers:
    d = f"{cg}/{lab}_{node}"
    try:
        tot.append(int(open(f"{d}/cpuacct.usage").read()) / 1e9)
        st = dict(l.split() for l in open(f"{d}/cpuacct.stat"))
        us += int(st["user"]) / hz; sy += int(st["system"]) / hz
    except OSError:
        pass
if tot:
    print(f"router cgroups: median {statistics.median(tot):.2f}, mean {statistics.mean(tot):.2f} CPU-s; "
          f"all {sum(tot):.0f} CPU-s ({us:.0f} user, {sy:.0f} system)")
'
shift
nodes=${*:-$($nl status --json "$lab" | jq -r '.[][] | .node' | grep -v -- '-host$' || true)}
for node in $nodes; do
  nb=$($nl exec "$lab" "$node" -- vtysh -c 'show bgp neighbors json' </dev/null 2>/dev/null) || continue
  sum=$($nl exec "$lab" "$node" -- vtysh -c 'show bgp ipv4 unicast summary json' </dev/null 2>/dev/null || echo '{}')
  kr=$($nl exec "$lab" "$node" -- ip -4 route show table main </dev/null 2>/dev/null | wc -l)
  jq -r --arg n "$node" --argjson s "$sum" --arg k "$kr" '
    [.[] | objects | .messageStats // empty] as $m
    | "\($n) \($m | map(.updatesRecv) | add // 0) \($m | map(.updatesSent) | add // 0) \($m | length) \($s.ipv4Unicast.ribCount // $s.ribCount // 0) \($k)"' <<<"$nb"
done | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
if not rows:
    sys.exit()
print(f"BGP of {len(rows)} routers: median (max) per router")
for i, name in [(1, "UPDATEs received"), (2, "UPDATEs sent"), (3, "sessions"), (4, "BGP RIB entries"), (5, "kernel IPv4 routes")]:
    v = [int(r[i]) for r in rows]
    print(f"  {name}: {statistics.median(v):g} ({max(v)}), all {sum(v)}")
top = sorted(rows, key=lambda r: -int(r[1]))[:5]
print("  most UPDATEs received: " + ", ".join(f"{r[0]} {r[1]}" for r in top))
'
