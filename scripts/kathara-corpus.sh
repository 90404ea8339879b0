#!/usr/bin/env bash
# Runs every lab of a Kathará-Labs checkout with netlab, one at a time, and
# prints a row per lab: did it come up and how long that took, do the daemons
# its startup starts run with their configuration, and does the network do
# what the lab's own README or slides say it does.
#
#   scripts/kathara-corpus.sh [--json] [--only REGEX] [--keep] [--dry-run] DIR
#
# DIR is a checkout of the Kathará-Labs collection. A lab is a folder with a
# lab.conf; P4 labs (bmv2 is not packaged in Debian) and SDN labs (POX is
# not either) are left out. What each lab should do is kept in this
# repository, one file a lab, at labs/kathara-corpus/PATH.yaml (PATH: the
# lab's folder inside DIR), written from the lab's documents:
#
#   source: what it was written from (README, slides page N)
#   needs: [ipip]                # kernel features the lab's startup uses
#   note: what is left out       # said with the verdict (e.g. lab.ext)
#   daemons: {s1: [apache2]}     # what must run, on which node, besides
#                                # the routing daemons that the lab's own
#                                # daemons files turn on (always checked)
#   setup: [{on: r1, run: "systemctl start frr"}]  # what the documents
#                                # have the student type first, if anything
#   checks: [...]                # netlab checks (docs/teaching.md#checks)
#
# For each lab: netlab convert, renamed kc-NAME, its own checks replaced by
# the expectation's; netlab up --allow-host (the lab folder is mounted at
# /hostlab); the setup commands by netlab exec, each once its node's
# startup has run (its log says "netlab: NODE started"); daemons by pgrep
# (bgpd, ospfd, ripd, ... also by vtysh: the running configuration has its
# router section); netlab check (checks wait for convergence with their own
# `within`); netlab down. The verdict: pass;
# needs FEATURE (a check or daemon failed and the lab needs a kernel feature
# this host lacks, probed in a namespace made for it); fail: why.
#
# --only REGEX runs the labs whose PATH matches; --keep leaves each lab up
# (for looking into it; netlab down kc-NAME afterwards); --dry-run only
# converts and validates each lab with its expectation (no root needed,
# nothing is brought up); --json prints the
# rows as one JSON array instead of the table. Each lab's convert, up, check
# and daemon output is kept under $OUT (default /tmp/kathara-corpus). Needs
# root, Docker, netlab's images (scripts/setup.sh), jq and yq (Debian
# packages). NETLAB names the netlab binary (default: netlab), EXPECTATIONS
# another folder of expectations.
set -uo pipefail

json=false only="" keep=false dry=false
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json=true ;;
    --only) only="$2"; shift ;;
    --keep) keep=true ;;
    --dry-run) dry=true ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "kathara-corpus: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 [--json] [--only REGEX] [--keep] [--dry-run] DIR (a Kathará-Labs checkout)" >&2; exit 2; }
dir=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
exp_dir=${EXPECTATIONS:-$repo/labs/kathara-corpus}
nl=${NETLAB:-netlab}
out=${OUT:-/tmp/kathara-corpus}
for t in jq yq "$nl"; do command -v "$t" >/dev/null || { echo "kathara-corpus: $t not found (jq, yq: apt-get install jq yq; NETLAB names netlab)" >&2; exit 2; }; done
mkdir -p "$out"

# has_feature FEATURE: whether this kernel makes such a device (or qdisc),
# tried in a network namespace made for the probe and removed after it.
declare -A feature_cache
has_feature() {
  local f=$1 ns=kc-probe-$$ ok=1
  [ -n "${feature_cache[$f]:-}" ] && return "${feature_cache[$f]}"
  ip netns add "$ns" 2>/dev/null || return 1
  case "$f" in
    dummy|ipip|gre|bond|wireguard|vxlan|vrf)
      local extra=""
      case "$f" in vxlan) extra="id 1 dstport 4789" ;; vrf) extra="table 10" ;; esac
      ip -n "$ns" link add kcprobe type "$f" $extra 2>/dev/null && ok=0 ;;
    macvlan)
      ip -n "$ns" link add p type veth peer name q && ip -n "$ns" link add kcprobe link p type macvlan 2>/dev/null && ok=0 ;;
    vlan)
      ip -n "$ns" link add p type veth peer name q && ip -n "$ns" link add link p name p.10 type vlan id 10 2>/dev/null && ok=0 ;;
    bridge-vlan)
      ip -n "$ns" link add b type bridge vlan_filtering 1 2>/dev/null && ok=0 ;;
    netem)
      ip -n "$ns" link set lo up && ip netns exec "$ns" tc qdisc add dev lo root netem delay 1ms 2>/dev/null && ok=0 ;;
    tbf)
      ip -n "$ns" link set lo up && ip netns exec "$ns" tc qdisc add dev lo root tbf rate 1mbit burst 32kbit latency 400ms 2>/dev/null && ok=0 ;;
    *) echo "kathara-corpus: unknown kernel feature $f in an expectation (known: dummy ipip gre bond wireguard vxlan vrf macvlan vlan bridge-vlan netem tbf)" >&2 ;;
  esac
  ip netns del "$ns"
  feature_cache[$f]=$ok
  return $ok
}

# labname PATH: kc- and the lab folder's name (its parent's when it is
# called lab), with a hash of PATH so that labs of the same name differ.
labname() {
  local base=${1##*/} h
  case "$base" in lab|lab-*) base=${1%/*}; base=${base##*/} ;; esac
  base=$(echo "$base" | tr 'A-Z_.' 'a-z--' | tr -cd 'a-z0-9-' | sed 's/^kathara-lab-//' | cut -c1-28 | sed 's/-*$//')
  h=$(printf %s "$1" | sha1sum | cut -c1-4)
  echo "kc-$base-$h"
}

# daemon_ok LAB NODE DAEMON LABDIR: it runs, and an FRR routing daemon
# whose router section the node's files in LABDIR configure (NODE/etc/frr
# or NODE/etc/quagga) has that section in the running configuration (a
# daemon the lab turns on without configuring it need only run); tried for
# 20 s (a busy machine may keep vtysh waiting), saying on stdout what was
# missing.
daemon_ok() {
  local lab=$1 node=$2 d=$3 sect="" i why f
  case "$d" in bgpd) sect="router bgp" ;; ospfd) sect="router ospf" ;; ripd) sect="router rip" ;;
    ospf6d) sect="router ospf6" ;; ripngd) sect="router ripng" ;; isisd) sect="router isis" ;; esac
  if [ -n "$sect" ]; then
    local configured=""
    for f in "$4"/*/; do
      f=${f%/}
      [ "$(nodename "${f##*/}")" = "$node" ] || continue
      grep -Eqs "^[[:space:]]*$sect([[:space:]]|\$)" "$f"/etc/frr/*.conf "$f"/etc/quagga/*.conf && configured=1
    done
    [ -z "$configured" ] && sect=""
  fi
  for i in $(seq 10); do
    if ! "$nl" exec "$lab" "$node" -- pgrep -x "$d" < /dev/null >/dev/null 2>&1; then
      why="not running"
    elif [ -n "$sect" ] && ! "$nl" exec "$lab" "$node" -- vtysh -c "show running-config" < /dev/null 2>/dev/null | grep -q "^$sect"; then
      why="running, but vtysh shows no $sect"
    else
      return 0
    fi
    sleep 2
  done
  echo "$why"
  return 1
}

# nodename NAME: the node's name in the converted lab (netlab convert's:
# lower case, runs of other characters than letters, digits and - as -).
nodename() { echo "$1" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9-]\{1,\}/-/g; s/^-*//; s/-*$//'; }

# started LAB NODE: waits (60 s at most) until the node's startup has run.
started() {
  local i
  for i in $(seq 120); do
    "$nl" logs "$1" "$2" < /dev/null 2>/dev/null | grep -q "^netlab: .* started" && return 0
    sleep 0.5
  done
  return 1
}

# lab_daemons DIR EXP: "NODE DAEMON" for each routing daemon a node's own
# daemons file turns on (NODE/etc/frr/daemons or NODE/etc/quagga/daemons),
# zebra with them, when the node's startup (or the expectation's setup)
# starts FRR or Quagga.
lab_daemons() {
  local d=$1 f node
  for f in "$d"/*/etc/frr/daemons "$d"/*/etc/quagga/daemons; do
    [ -f "$f" ] || continue
    node=${f#"$d"/}; node=${node%%/*}
    { grep -Eqs 'frr|quagga|zebra' "$d/$node.startup" "$d/shared.startup" ||
      jq -e --arg n "$node" '[.setup // [] | .[] | select(.on == $n)] | length > 0' "$2" >/dev/null; } || continue
    echo "$node zebra"
    sed -n 's/^\(bgpd\|ospfd\|ospf6d\|ripd\|ripngd\|isisd\|eigrpd\|babeld\|pimd\|ldpd\)=yes.*/\1/p' "$f" | sed "s/^/$node /"
  done
}

rows=()
row() { # path lab up_s daemons_ok daemons_total checks_passed checks_total verdict
  local r
  local up=$3; [ "$up" = - ] && up=null
  r=$(jq -cn --arg path "$1" --arg lab "$2" --argjson up "$up" --argjson dok "$4" --argjson dn "$5" \
    --argjson cp "$6" --argjson cn "$7" --arg verdict "$8" \
    '{path:$path, lab:$lab, up_s:$up, daemons_ok:$dok, daemons:$dn, checks_passed:$cp, checks:$cn, verdict:$verdict}')
  rows+=("$r")
  $json || printf '| %s | %s | %s/%s | %s/%s | %s |\n' "$1" "$3" "$4" "$5" "$6" "$7" "$8"
}

$json || { echo "| lab | up (s) | daemons | checks | verdict |"; echo "| --- | --- | --- | --- | --- |"; }
mapfile -t labs < <(cd "$dir" && find . -name lab.conf -printf '%h\n' | sed 's|^\./||' | sort)
for path in "${labs[@]}"; do
  case "$path" in */p4/*|*/sdn-openflow/*) continue ;; esac
  [ -n "$only" ] && ! [[ "$path" =~ $only ]] && continue
  exp=$exp_dir/$path.yaml
  lab=$(labname "$path")
  work=$out/$lab
  rm -rf "$work"; mkdir -p "$work"
  if [ ! -f "$exp" ]; then row "$path" "$lab" - 0 0 0 0 "fail: no expectation ($exp)"; continue; fi
  yq -c . "$exp" > "$work/exp.json" || { row "$path" "$lab" - 0 0 0 0 "fail: expectation does not parse"; continue; }
  # the converted lab under its kc- name, with the expectation's checks
  if ! "$nl" convert "$dir/$path" -o "$work/conv.yaml" > "$work/convert.log" 2>&1; then
    row "$path" "$lab" - 0 0 0 0 "fail: convert: $(grep -v '^\s*$' "$work/convert.log" | tail -1)"; continue
  fi
  { awk '/^checks:/{exit} {print}' "$work/conv.yaml" | sed "s/^name: .*/name: $lab/"
    yq -y '{checks: .checks}' "$exp"; } > "$work/lab.yaml"
  if $dry; then
    if "$nl" validate "$work/lab.yaml" > "$work/validate.log" 2>&1; then v="valid"; else v="fail: validate: $(grep -v '^\s*$' "$work/validate.log" | head -1 | cut -c1-200)"; fi
    row "$path" "$lab" - 0 0 0 "$(jq '.checks | length' "$work/exp.json")" "$v"; continue
  fi
  t0=$(date +%s.%N)
  if ! "$nl" up --allow-host "$work/lab.yaml" > "$work/up.log" 2>&1; then
    why=$(grep -v '^\s*$' "$work/up.log" | tail -1 | cut -c1-160)
    $keep || "$nl" down "$lab" >/dev/null 2>&1
    row "$path" "$lab" - 0 0 0 0 "fail: up: $why"; continue
  fi
  up_s=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.1f')
  while IFS=$'\t' read -r node cmd; do
    [ -z "$node" ] && continue
    node=$(nodename "$node")
    echo "== $node: $cmd" >> "$work/setup.log"
    started "$lab" "$node" || echo "(its startup had not finished in 60 s)" >> "$work/setup.log"
    "$nl" exec "$lab" "$node" -- sh -c "$cmd" < /dev/null >> "$work/setup.log" 2>&1
  done < <(jq -r '.setup // [] | .[] | "\(.on)\t\(.run)"' "$work/exp.json")
  # checks first: they wait for convergence, by which time daemons have started
  "$nl" check --json "$work/lab.yaml" > "$work/check.json" 2> "$work/check.err"
  cn=$(jq '.checks | length' "$work/check.json" 2>/dev/null || echo 0)
  cp=$(jq '.passed' "$work/check.json" 2>/dev/null || echo 0)
  failed=$(jq -r '[.checks[] | select(.passed | not) | .name] | join("; ")' "$work/check.json" 2>/dev/null)
  dn=0 dok=0 dbad=""
  while read -r node d; do
    [ -z "$node" ] && continue
    node=$(nodename "$node")
    dn=$((dn + 1))
    if why=$(daemon_ok "$lab" "$node" "$d" "$dir/$path"); then dok=$((dok + 1)); else dbad="$dbad $node:$d ($why)"; fi
  done < <({ lab_daemons "$dir/$path" "$work/exp.json"
              jq -r '.daemons // {} | to_entries[] | .key as $n | .value[] | "\($n) \(.)"' "$work/exp.json"; } |
            while read -r n d; do echo "$(nodename "$n") $d"; done | sort -u)
  echo "${dbad:-all daemons run}" > "$work/daemons.log"
  lacking=""
  for f in $(jq -r '.needs // [] | .[]' "$work/exp.json"); do has_feature "$f" || lacking="$lacking $f"; done
  if [ "$cn" -gt 0 ] && [ "$cp" -eq "$cn" ] && [ "$dok" -eq "$dn" ]; then
    verdict=pass
  elif [ -n "$lacking" ]; then
    verdict="needs${lacking// /, }"; verdict=${verdict/needs, /needs }
  elif [ "$cn" -eq 0 ]; then
    verdict="fail: check: $(grep -v '^\s*$' "$work/check.err" | tail -1 | cut -c1-160)"
  else
    verdict="fail:${dbad:+ daemons:$dbad;}${failed:+ checks failed: $failed}"
  fi
  note=$(jq -r '.note // empty' "$work/exp.json")
  [ -n "$note" ] && verdict="$verdict ($note)"
  $keep || "$nl" down "$lab" >/dev/null 2>&1
  row "$path" "$lab" "$up_s" "$dok" "$dn" "$cp" "$cn" "$verdict"
done
$json && printf '%s\n' "${rows[@]}" | jq -s .
exit 0
