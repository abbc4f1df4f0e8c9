#!/usr/bin/env bash
# `make bench`: each case at full size, recorded under DIR (docs/results),
# with the machine's description in DIR/summary.md and each results.json.
# Nothing here asserts a speed: the figures are for people to read.
set -u -o pipefail
out=${1:-docs/results}
build=${BUILD:-build}
mkdir -p "$out" || exit 2
status=0
run() {  # run CASE ARGS...
  local c=$1; shift
  local exe="$build/$c/$c"
  [ -x "$exe" ] || return 0
  echo "################ $c $* ################"
  "$exe" --out "$out/$c" "$@" | tee "$out/$c.log.tmp" && mv "$out/$c.log.tmp" "$out/$c.log" || status=1
}
# case03: the default job, plus the naive GEMM timed at n = 1024 so the GEMM
# table compares all three backends at one size.
run case03_gpu_migration --naive-gemm-n 1024
# case02: the default file (1,000,000 generated rows, read from the page cache).
run case02_data_pipeline
"$build/tools/suite_summary" "$out" "$out/summary.md" || status=1
exit $status
