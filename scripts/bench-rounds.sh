# Sourced by the set-up benchmarks (bench-bootstrap.sh, bench-fresh.sh).
#
# bench_rounds ROUNDS FUNC COMMIT...: FUNC COMMIT for each commit, ROUNDS
# times, the commits' order reversed every other round (so that neither
# always runs first on a machine that warms up); returns 1 when a run set
# failed=1.
bench_rounds() {
  local rounds=$1 fn=$2 r i c
  shift 2
  local commits=("$@") order
  failed=0
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order=("${commits[@]}"); else
      order=(); for ((i = ${#commits[@]} - 1; i >= 0; i--)); do order+=("${commits[$i]}"); done
    fi
    for c in "${order[@]}"; do "$fn" "$c"; done
  done
  [ "$failed" = 0 ]
}

# bench_steps LOG: the lines of a timed bootstrap.sh log that say when a
# step began, indented.
bench_steps() {
  grep -E '^ *[0-9.]+ (== |CGO_ENABLED|GOGC|go: downloading github.com/docker|   (downloading|extracting|installing)|fopnp images built|Get in:)' "$1" | sed 's/^/    /' || true
}
