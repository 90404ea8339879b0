#!/usr/bin/env bash
# Throughput of an impaired link's relay against a plain veth link, in one
# run: node a downloads SIZE_MB from node b over each (the impaired one with
# only a 1 ms delay, so the relay is the limit). Needs root and setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CGO_ENABLED=0 go build -o bin/ ./cmd/netlab ./cmd/netlab-init
mb=${SIZE_MB:-50}
lab=$(mktemp --suffix=.yaml)
trap 'bin/netlab down benchrelay >/dev/null 2>&1 || true; rm -f "$lab"' EXIT
cat >"$lab" <<EOL
name: benchrelay
defaults: {image: netlab/tiny}
nodes:
  a: {interfaces: {eth0: {address: 10.2.0.1/30}, eth1: {address: 10.2.1.1/30}}}
  b:
    interfaces: {eth0: {address: 10.2.0.2/30}, eth1: {address: 10.2.1.2/30}}
    command: ["sh", "-c", "exec nc -ll -p 5001 -e dd if=/dev/zero bs=64k count=$((mb * 16))"]
links:
  - [a:eth1, b:eth1]
  - {endpoints: [a:eth0, b:eth0], delay: 1ms}
EOL
bin/netlab up "$lab" >/dev/null 2>&1
sleep 0.5
echo "| link | $mb MiB download | throughput |"
echo "| --- | --- | --- |"
for link in "plain veth:10.2.1.2" "relay (delay 1ms):10.2.0.2"; do
  ip=${link##*:}
  t0=$(date +%s.%N)
  bytes=$(docker exec benchrelay-a sh -c "nc $ip 5001 -e sh -c 'wc -c >&2' 2>&1")
  t1=$(date +%s.%N)
  [ "$bytes" = $((mb * 1048576)) ] || { echo "got $bytes bytes over ${link%%:*}" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" -v mb="$mb" -v n="${link%%:*}" 'BEGIN { printf "| %s | %.2f s | %.0f MB/s |\n", n, b - a, mb * 1.048576 / (b - a) }'
done
