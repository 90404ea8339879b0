#!/usr/bin/env bash
# Measures a generated class-wide Internet (netlab new internet) on each
# runtime in ${RUNTIMES:-runc docker}, for each AS count in ${ASES:-10}:
#   wired:    how long netlab up takes (it returns when every node is
#             wired: interfaces, addresses, routes; FRR then converges)
#   matrix:   from then until every pair is reachable (netlab matrix
#             --wait: rounds of pings of every pair, a second apart, no
#             router read until the end), and whether every path is also
#             valley-free
#   memory:   the proportional set size (PSS, /proc/PID/smaps_rollup) of
#             every process of every node, summed per node: the mean of
#             the FRR routers (nodes running bgpd), and of all nodes
# MINI=DIR adds a row per runtime for a mini-Internet configuration
# directory (the project's platform/config), converted --configure-all.
# Other knobs: ROUTERS (routers per AS, default 2), IXPS (default 1),
# LIMIT (seconds to wait for the matrix, default 600), PREFIX (of the
# lab names, default bench: bench-inet-10-runc). WORK=1 prints, to
# stderr, what the routers did once the matrix is full (scripts/frr-work.sh:
# CPU per FRR daemon, UPDATEs, table sizes; WORK_NODES limits its BGP reads
# to those nodes); PERF=FILE records perf samples of the whole machine
# (perf record -F 49 -a -g) while the matrix fills. The lab is
# brought down after each row. Prints a Markdown table. Needs root, the
# netlab/router and netlab/host images, and scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CGO_ENABLED=0 go build -o bin/ ./cmd/netlab ./cmd/netlab-init
nl=$PWD/bin/netlab
work=$(mktemp -d)
lab=""
cleanup() {
  [ -n "$lab" ] && $nl down "$lab" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
since() { echo "$(now) - $1" | bc; }

# memory LAB: "routers router_mean_MiB nodes node_mean_MiB total_MiB".
memory() {
  scripts/node-procs.sh "$1" | python3 -c '
import sys
pss, frr = {}, set()
for line in sys.stdin:
    node, p = line.split()
    try:
        with open(f"/proc/{p}/smaps_rollup") as f:
            kb = sum(int(l.split()[1]) for l in f if l.startswith("Pss:"))
        with open(f"/proc/{p}/comm") as f:
            if f.read().strip() == "bgpd":
                frr.add(node)
    except OSError:
        continue  # gone meanwhile
    pss[node] = pss.get(node, 0) + kb
routers = [pss[n] for n in frr]
mib = lambda kb: kb / 1024
print(len(routers), "%.1f" % mib(sum(routers) / max(len(routers), 1)),
      len(pss), "%.1f" % mib(sum(pss.values()) / max(len(pss), 1)), "%.0f" % mib(sum(pss.values())))
'
}

# matrix_wait LAB: seconds until every pair is reachable, "valid" when
# every path is valley-free too, and the number of rounds: one netlab
# matrix --wait, which pings in rounds until every pair answers (LIMIT)
# and reads the routers' tables once, at the end.
matrix_wait() {
  local l=$1 start json rounds
  start=$(now)
  json=$($nl matrix --json --wait "${LIMIT:-600}s" "$l" 2>"$work/rounds" || true)
  rounds=$(grep -c '^waiting:' "$work/rounds" || true)
  if [ -n "$json" ] && [ "$(echo "$json" | jq '[.pairs[] | select(.reachable | not)] | length')" = 0 ]; then
    local good
    good=$(echo "$json" | jq -r 'if .good then "all valid" else "\([.pairs[] | select(.verdict != "valid")] | length) not valid" end')
    echo "$(since "$start") $rounds $(echo "$json" | jq '.pairs | length') $good"
    return
  fi
  echo "gave-up $rounds ? ?"
}

echo "| runtime | ASes | nodes | up (wired) | + matrix all reachable | pairs | paths | rounds | FRR router PSS (mean) | node PSS (mean) | all nodes PSS | load (start, wired, matrix) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
# The routers column says how many routers run bgpd of how many the file
# has: FRR that failed to start shows there (and in netlab matrix's detail).
# Each source is an AS count (a generated Internet) or, with MINI=DIR, a
# mini-Internet configuration directory (its platform/config) converted
# with --configure-all: every AS configured, so every pair can reach.
for src in ${ASES:-10} ${MINI:+mini}; do
  for rt in ${RUNTIMES:-runc docker}; do
    lab="${PREFIX:-bench}-inet-$src-$rt"
    file="$work/$lab.yaml"
    if [ "$src" = mini ]; then
      $nl convert --configure-all "$MINI" -o "$file" >/dev/null 2>&1
      sed -i "s/^name: .*/name: $lab/" "$file"
      ases=$(grep -oE '^  as[0-9]+-' "$file" | sort -u | wc -l)
    else
      ases=$src
      $nl new internet --ases "$ases" --routers "${ROUTERS:-2}" --ixps "${IXPS:-1}" --name "$lab" -o "$file" >/dev/null
    fi
    load0=$(load)
    start=$(now)
    $nl up --runtime "$rt" "$file" >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
    wired=$(since "$start")
    load1=$(load)
    perf_pid=""
    if [ -n "${PERF:-}" ]; then
      perf record -q -F 49 -a -g -o "$PERF" >/dev/null 2>&1 &
      perf_pid=$!
    fi
    read -r took rounds pairs verdict <<<"$(matrix_wait "$lab")"
    [ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
    load2=$(load)
    read -r routers rmean nodes nmean total <<<"$(memory "$lab")"
    [ "$took" = gave-up ] || took="$(printf %.1f "$took") s"
    printf "| %s | %d | %d | %.1f s | %s | %s | %s | %s | %s MiB (%s of %s routers) | %s MiB | %s MiB | %s, %s, %s |\n" \
      "$rt" "$ases" "$nodes" "$wired" "$took" "$pairs" "$verdict" "$rounds" "$rmean" "$routers" "$(grep -c 'image: netlab/router' "$file")" "$nmean" "$total" "$load0" "$load1" "$load2"
    # shellcheck disable=SC2086 # WORK_NODES is a list of node names
    [ -z "${WORK:-}" ] || scripts/frr-work.sh "$lab" ${WORK_NODES:-} >&2
    $nl down "$lab" >/dev/null
    lab=""
  done
done
