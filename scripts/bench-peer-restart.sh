#!/usr/bin/env bash
# Reproduces a router restart on a busy machine and times the recovery of
# OSPF on the link to it: a generated 4-AS Internet (netlab new internet)
# on RUNTIME (runc; docker works too), then for each FREEZE in ${FREEZES:-3 5 8}
# seconds: as1-base's zebra is stopped (SIGSTOP), its neighbour as1-zuri
# killed, the lab's watcher rewires it, and zebra goes on FREEZE seconds
# later, so that the old link's deletion and the new one reach it
# together, as on a busy machine. Prints a row per round: the seconds until
# as1-base has its OSPF neighbour Full again, or "none in LIMIT s" with
# what `show ip ospf interface port_ZURI` says. The lab is brought down at
# the end. Needs root, the netlab/router and netlab/host images.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=${RUNTIME:-runc}
LIMIT=${LIMIT:-60}
lab=${LAB:-peer-restart}
CGO_ENABLED=0 go build -o bin/ ./cmd/netlab ./cmd/netlab-init
nl=$PWD/bin/netlab
work=$(mktemp -d)
trap '$nl down "$lab" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$nl new internet --ases 4 --ixps 1 --name "$lab" > "$work/$lab.yaml"
$nl up --runtime "$RUNTIME" "$work/$lab.yaml" > "$work/up.log" 2>&1 || { cat "$work/up.log" >&2; exit 1; }
full() { $nl exec "$lab" as1-base -- vtysh -c 'show ip ospf neighbor' 2>/dev/null | grep -q Full; }
for _ in $(seq 1 60); do full && break; sleep 2; done
pid_of() {
  if [ "$RUNTIME" = runc ]; then runc --root /run/netlab/.runc state "${lab}_$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
  else docker inspect -f '{{.State.Pid}}' "${lab}_$1"; fi
}
echo "| freeze | OSPF Full again after |"
echo "| --- | --- |"
for f in ${FREEZES:-3 5 8}; do
  base=$(pid_of as1-base)
  zebra=$(for p in $(pgrep -x zebra); do if [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/$base/ns/net)" ]; then echo $p; fi; done)
  kill -STOP $zebra
  if [ "$RUNTIME" = runc ]; then runc --root /run/netlab/.runc kill "${lab}_as1-zuri" KILL; else docker kill "${lab}_as1-zuri" > /dev/null; fi
  sleep "$f"
  kill -CONT $zebra
  t0=$(date +%s%N) ok=""
  while [ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt "$LIMIT" ]; do
    if full; then ok=$(awk "BEGIN { print ($(date +%s%N) - $t0) / 1e9 }"); break; fi
    sleep 1
  done
  if [ -n "$ok" ]; then
    printf '| %s s | %.1f s |\n' "$f" "$ok"
  else
    echo "| $f s | none in $LIMIT s: $($nl exec "$lab" as1-base -- vtysh -c 'show ip ospf interface port_ZURI' | sed -n 3p | xargs) |"
    for _ in $(seq 1 30); do full && break; sleep 2; done
  fi
done
