#!/bin/sh
# fuzz.sh PKG TARGET FUZZTIME TIMEOUT: runs one fuzz target. Go's fuzzing
# engine sometimes ends a run with "context deadline exceeded" when the
# fuzz time runs out while a worker is between inputs, writing no failing
# input: such a run is tried again, three tries in all. A failure with an input (written to
# testdata/fuzz, and so a seed of the second run too) fails at once.
set -u
pkg=$1 target=$2 fuzztime=$3 timeout=$4
# Seen here with every target, the smallest parser's too (FuzzImpairment):
# up to three tries.
try=1
while :; do
  out=$(${GO:-go} test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -timeout "$timeout" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  [ $rc -eq 0 ] && exit 0
  if [ $try -lt 3 ] && printf '%s\n' "$out" | grep -q 'context deadline exceeded' && ! printf '%s\n' "$out" | grep -q 'Failing input written'; then
    echo "fuzz.sh: $target stopped on the engine's deadline with no failing input; once more"
    try=$((try + 1))
    continue
  fi
  exit $rc
done
