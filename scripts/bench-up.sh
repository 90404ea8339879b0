#!/usr/bin/env bash
# Measures netlab up and down against plain Docker, in one run:
#   baseline up:   N x `docker run -d --net=none netlab/tiny`, 8 at a time
#   baseline down: one `docker rm -f` of the N containers
#   chain lab:     N nodes, N-1 point-to-point links (/30 each)
#   star lab:      N nodes on one bridge, addresses from its subnet
# for N in ${SIZES:-10 50 100}, on each runtime in ${RUNTIMES:-docker runc}
# (netlab up --runtime; a row each, ratios against the baseline of the same
# N), and the peak memory of netlab up at the largest N. The runc runtime's
# rootfs cache is warmed first (one netlab/tiny node; downs keep it), so the rows measure
# node starts, not the image's unpacking. Prints a Markdown table. Needs
# root and scripts/setup.sh.
#
# Also, in the same run and against the same baseline:
#   containerlab: when CONTAINERLAB names its binary (built from its public
#     source outside this repository: see docs/runtimes.md), the same
#     chain and star as .clab.yml (linux nodes of netlab/tiny, privileged
#     off, the star on a host bridge made beforehand, since containerlab
#     does not make bridges), deploy --max-workers 8 and destroy --cleanup.
#   floor: what the kernel alone takes: N network namespaces (ip netns
#     add) and the chain's N-1 veth pairs between them, 8 at a time.
#   runc alone (with the runc runtime): N x `runc run -d` of one bare
#     bundle (runc spec's defaults, netlab/tiny's cached root read-only,
#     sleep as its process), 8 at a time: what runc itself takes, before
#     any image, overlay or wiring of netlab's.
#   BIG (default 1000; 0 to skip): one chain of BIG nodes on the runc
#     runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
CGO_ENABLED=0 go build -o bin/ ./cmd/netlab ./cmd/netlab-init
nl=bin/netlab
work=$(mktemp -d)
cleanup() {
  for l in benchchain benchstar benchwarm benchbig; do $nl down $l >/dev/null 2>&1 || true; done
  docker rm -f $(docker ps -aq --filter label=netlab.bench) >/dev/null 2>&1 || true
  if [ -n "${CONTAINERLAB:-}" ]; then
    for t in "$work"/*.clab.yml; do [ -f "$t" ] && "$CONTAINERLAB" destroy -t "$t" --cleanup >/dev/null 2>&1 || true; done
  fi
  ip link del clbench 2>/dev/null || true
  floor_down 2>/dev/null || true
  runc_alone_down 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

chain() { # N
  echo "name: benchchain"; echo "defaults: {image: netlab/tiny}"; echo "nodes:"
  for i in $(seq 1 "$1"); do
    echo "  n$i:"; echo "    forward: true"; echo "    interfaces:"
    [ "$i" -gt 1 ] && echo "      left: {address: 10.$(( (i-1) / 64 )).$(( ((i-1) % 64) * 4 / 256 )).$(( ((i-1) % 64) * 4 % 256 + 2 ))/30}"
    [ "$i" -lt "$1" ] && echo "      right: {address: 10.$(( i / 64 )).$(( (i % 64) * 4 / 256 )).$(( (i % 64) * 4 % 256 + 1 ))/30}"
    [ "$1" -eq 1 ] && echo "      {}"
  done
  echo "links:"
  for i in $(seq 1 $(( $1 - 1 ))); do echo "  - [n$i:right, n$((i+1)):left]"; done
}
star() { # N
  echo "name: benchstar"; echo "defaults: {image: netlab/tiny}"
  echo "networks: {lan: {subnet: 10.200.0.0/16}}"; echo "nodes:"
  for i in $(seq 1 "$1"); do echo "  n$i: {interfaces: {eth0: {network: lan}}}"; done
}

clab_chain() { # N
  echo "name: benchchain"; echo "topology:"; echo "  defaults: {privileged: false}"; echo "  nodes:"
  for i in $(seq 1 "$1"); do echo "    n$i: {kind: linux, image: netlab/tiny, cmd: \"sleep 1000000\"}"; done
  echo "  links:"
  for i in $(seq 1 $(( $1 - 1 ))); do echo "    - endpoints: [\"n$i:right\", \"n$((i+1)):left\"]"; done
}
clab_star() { # N
  echo "name: benchstar"; echo "topology:"; echo "  defaults: {privileged: false}"; echo "  nodes:"
  echo "    clbench: {kind: bridge}"
  for i in $(seq 1 "$1"); do echo "    n$i: {kind: linux, image: netlab/tiny, cmd: \"sleep 1000000\"}"; done
  echo "  links:"
  for i in $(seq 1 "$1"); do echo "    - endpoints: [\"n$i:eth1\", \"clbench:p$i\"]"; done
}
floor() { # N: namespaces, then the chain's veth pairs, 8 at a time
  seq 1 "$1" | xargs -P 8 -I{} ip netns add benchfloor{}
  seq 1 $(( $1 - 1 )) | xargs -P 8 -I{} sh -c 'ip link add right netns benchfloor$1 type veth peer left netns benchfloor$(( $1 + 1 ))' - {}
}

floor_down() { ip netns list | grep -o '^benchfloor[0-9]*' | xargs -r -P 8 -I{} ip netns del {}; }
runc_alone() { # N: runc run of the bare bundle, 8 at a time
  seq 1 "$1" | xargs -P 8 -I{} sh -c 'runc --root "$1" run -d --bundle "$2" benchrunc$3 >/dev/null 2>&1 </dev/null' - "$work/runc" "$work/bare" {}
}
runc_alone_down() {
  runc --root "$work/runc" list -q | xargs -r -P 8 -I{} runc --root "$work/runc" kill {} KILL
  runc --root "$work/runc" list -q | xargs -r -P 8 -I{} runc --root "$work/runc" delete --force {}
}

runtimes=${RUNTIMES:-docker runc}
largest=$(echo ${SIZES:-10 50 100} | awk '{print $NF}')
case " $runtimes " in *" runc "*) # warm the rootfs cache
  printf 'name: benchwarm\ndefaults: {image: netlab/tiny}\nnodes: {n1: {}}\n' >"$work/warm.yaml"
  $nl up --runtime runc "$work/warm.yaml" >"$work/warm.log" 2>&1 || { echo "warming the rootfs cache failed:"; tail -5 "$work/warm.log"; exit 1; }
  tiny=$(grep -o 'lowerdir=[^"]*' /var/lib/netlab/labs/benchwarm/n1/config.json | head -1 | cut -d= -f2)
  $nl down --keep-cache benchwarm >/dev/null
  mkdir -p "$work/bare" && (cd "$work/bare" && runc spec)
  sed -i -e "s#\"path\": \"rootfs\"#\"path\": \"$tiny\"#" -e 's/"terminal": true/"terminal": false/' \
    -e 's/^\([[:space:]]*\)"sh"$/\1"sleep", "3600"/' "$work/bare/config.json" ;;
esac

echo "| N | runtime | docker run (8 at a time) | netlab up chain | netlab up star | docker rm -f | netlab down chain | netlab down star |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f s (%.2fx)", a, a / b }'; }
for n in ${SIZES:-10 50 100}; do
  chain "$n" >"$work/chain.yaml"; star "$n" >"$work/star.yaml"
  $nl validate "$work/chain.yaml" "$work/star.yaml" >/dev/null

  t0=$(now)
  seq 1 "$n" | xargs -P 8 -I{} docker run -d --net=none --label netlab.bench=1 netlab/tiny >/dev/null
  t1=$(now)
  docker rm -f $(docker ps -aq --filter label=netlab.bench) >/dev/null
  t2=$(now)
  base_up=$(secs "$t0" "$t1"); base_down=$(secs "$t1" "$t2")

  for rt in $runtimes; do
    row=()
    for lab in chain star; do
      t0=$(now)
      rss=/dev/null
      [ "$n" = "$largest" ] && rss="$work/$lab-$rt.rss"
      /usr/bin/time -f %M -o "$rss" $nl up --runtime "$rt" "$work/$lab.yaml" >"$work/up.log" 2>&1 ||
        { echo "netlab up of the $lab of $n on $rt failed:"; grep -v '^\[' "$work/up.log" | tail -20; exit 1; }
      t1=$(now)
      $nl down --keep-cache bench$lab >/dev/null
      t2=$(now)
      row+=("$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")")
    done
    echo "| $n | $rt | ${base_up} s | $(ratio "${row[0]}" "$base_up") | $(ratio "${row[2]}" "$base_up") | ${base_down} s | $(ratio "${row[1]}" "$base_down") | $(ratio "${row[3]}" "$base_down") |"
  done
  if [ -n "${CONTAINERLAB:-}" ]; then
    clab_chain "$n" >"$work/chain.clab.yml"; clab_star "$n" >"$work/star.clab.yml"
    row=()
    for lab in chain star; do
      [ "$lab" = star ] && { ip link add clbench type bridge && ip link set clbench up; }
      t0=$(now)
      "$CONTAINERLAB" deploy -t "$work/$lab.clab.yml" --max-workers 8 >"$work/clab.log" 2>&1 || { echo "containerlab deploy failed:"; tail -5 "$work/clab.log"; }
      t1=$(now)
      "$CONTAINERLAB" destroy -t "$work/$lab.clab.yml" --cleanup >/dev/null 2>&1
      t2=$(now)
      [ "$lab" = star ] && ip link del clbench
      row+=("$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")")
    done
    echo "| $n | containerlab | ${base_up} s | $(ratio "${row[0]}" "$base_up") | $(ratio "${row[2]}" "$base_up") | ${base_down} s | $(ratio "${row[1]}" "$base_down") | $(ratio "${row[3]}" "$base_down") |"
  fi
  t0=$(now); floor "$n"; t1=$(now); floor_down; t2=$(now)
  echo "| $n | floor: netns + veth | ${base_up} s | $(ratio "$(secs "$t0" "$t1")" "$base_up") | | ${base_down} s | $(ratio "$(secs "$t1" "$t2")" "$base_down") | |"
  if [ -f "$work/bare/config.json" ]; then
    t0=$(now); runc_alone "$n"; t1=$(now); runc_alone_down
    echo "| $n | runc run alone (bare bundle) | ${base_up} s | $(ratio "$(secs "$t0" "$t1")" "$base_up") | | ${base_down} s | | |"
  fi
done
big=${BIG:-1000}
case " $runtimes " in *" runc "*) ;; *) big=0 ;; esac
if [ "$big" != 0 ]; then
  chain "$big" | sed 's/^name: benchchain/name: benchbig/' >"$work/big.yaml"
  t0=$(now)
  /usr/bin/time -f %M -o "$work/big.rss" $nl up --runtime runc "$work/big.yaml" >"$work/big.log" 2>&1 ||
    { echo "netlab up of the $big-node chain failed:"; grep -v '^\[' "$work/big.log" | tail -20; exit 1; }
  t1=$(now)
  $nl down --keep-cache benchbig >/dev/null; t2=$(now)
  echo
  echo "chain of $big nodes on runc: up $(secs "$t0" "$t1") s (peak memory $(( $(cat "$work/big.rss") / 1024 )) MiB), down $(secs "$t1" "$t2") s"
  t0=$(now); floor "$big"; t1=$(now); floor_down; t2=$(now)
  echo "floor for $big (netns + veth, 8 at a time): up $(secs "$t0" "$t1") s, down $(secs "$t1" "$t2") s"
  t0=$(now); runc_alone "$big"; t1=$(now); runc_alone_down
  echo "runc run alone for $big (bare bundle, 8 at a time): $(secs "$t0" "$t1") s"
fi
for rt in $runtimes; do
  for lab in chain star; do
    [ -f "$work/$lab-$rt.rss" ] && echo "peak memory of netlab up --runtime $rt ($lab, N=$largest): $(( $(cat "$work/$lab-$rt.rss") / 1024 )) MiB"
  done
done
