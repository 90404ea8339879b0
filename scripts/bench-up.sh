#!/usr/bin/env bash
# Measures netlab up and down against plain Docker, in one run:
#   baseline up:   N x `docker run -d --net=none netlab/tiny`, 8 at a time
#   baseline down: one `docker rm -f` of the N containers
#   chain lab:     N nodes, N-1 point-to-point links (/30 each)
#   star lab:      N nodes on one bridge, addresses from its subnet
# for N in ${SIZES:-10 50 100}, on each runtime in ${RUNTIMES:-docker runc}
# (netlab up --runtime; a row each, ratios against the baseline of the same
# N), and the peak memory of netlab up at the largest N. The runc runtime's
# rootfs cache is warmed first (one netlab/tiny node), so the rows measure
# node starts, not the image's unpacking. Prints a Markdown table. Needs
# root and scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { apt-get install -y -qq time >/dev/null; }
CGO_ENABLED=0 go build -o bin/netlab ./cmd/netlab
nl=bin/netlab
work=$(mktemp -d)
trap 'rm -rf "$work"; for l in benchchain benchstar benchwarm; do $nl down $l >/dev/null 2>&1 || true; done; docker rm -f $(docker ps -aq --filter label=netlab.bench) >/dev/null 2>&1 || true' EXIT

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

runtimes=${RUNTIMES:-docker runc}
largest=$(echo ${SIZES:-10 50 100} | awk '{print $NF}')
case " $runtimes " in *" runc "*) # warm the rootfs cache
  chain 1 | sed 's/^name: benchchain/name: benchwarm/' >"$work/warm.yaml"
  $nl up --runtime runc "$work/warm.yaml" >/dev/null 2>&1 && $nl down benchwarm >/dev/null ;;
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
      if [ "$n" = "$largest" ]; then
        /usr/bin/time -f %M -o "$work/$lab-$rt.rss" $nl up --runtime "$rt" "$work/$lab.yaml" >/dev/null 2>&1
      else
        $nl up --runtime "$rt" "$work/$lab.yaml" >/dev/null 2>&1
      fi
      t1=$(now)
      $nl down bench$lab >/dev/null
      t2=$(now)
      row+=("$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")")
    done
    echo "| $n | $rt | ${base_up} s | $(ratio "${row[0]}" "$base_up") | $(ratio "${row[2]}" "$base_up") | ${base_down} s | $(ratio "${row[1]}" "$base_down") | $(ratio "${row[3]}" "$base_down") |"
  done
done
for rt in $runtimes; do
  for lab in chain star; do
    [ -f "$work/$lab-$rt.rss" ] && echo "peak memory of netlab up --runtime $rt ($lab, N=$largest): $(( $(cat "$work/$lab-$rt.rss") / 1024 )) MiB"
  done
done
