#!/usr/bin/env bash
# The fast CPU rungs against their targets, once per OpenBLAS threading
# layer that `make bench` measured, and against the best PyTorch run of the
# same bench (PyTorch's peers ran with several settings; the best counts):
#   case01  cpu_fast >= 1.2x cpu_batched, and >= the best PyTorch (goal 1.25x)
#   case03  cpu_blas >= 0.8x cpu_blocked
#   lab     the CPU baseline >= 2x the best PyTorch at the same size
# Reads DIR/<case>/results.{csv,json} (the main build) and
# DIR/openblas_*/<case>/... (the other layer), DIR/case01_pytorch.log and
# DIR/lab_resnet_pytorch.log; writes DIR/blas_threading.md (temporary name,
# then renamed). Every figure comes from those files: nothing typed here.
set -u -o pipefail
dir=${1:?usage: blas_builds_table.sh DIR}
table=$dir/blas_threading.md

# median throughput of VARIANT in CSV (empty when absent or not PASS)
rate() {
  [ -f "$1" ] || return 0
  awk -F, -v v="$2" 'NR > 1 && $2 == v && $12 == "PASS" { print $8 }' "$1"
}
# the BLAS line of a results.json
blas_of() {
  [ -f "$1" ] || return 0
  sed -n 's/.*"blas": *"\([^"]*\)".*/\1/p' "$1" | head -1
}
# the largest FIELD=value over the RESULT lines of LOG that match FILTER
best_peer() {
  [ -f "$1" ] || return 0
  grep '^RESULT device=cpu' "$1" | grep -E -- "$3" |
    sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | sort -g | tail -1
}
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "" }'; }
verdict() {  # verdict RATIO TARGET
  [ -n "$1" ] || { printf "not measured"; return; }
  awk -v r="$1" -v t="$2" 'BEGIN { printf "%sx (%s)", r, (r + 0 >= t + 0) ? "met" : "NOT met" }'
}

c1_peer=$(best_peer "$dir/case01_pytorch.log" samples_per_s '.')
lab_img=$(sed -n 's/.*img_size=\([0-9]*\).*/\1/p' "$dir/lab_resnet/results.csv" 2>/dev/null | head -1)
lab_peer=$(best_peer "$dir/lab_resnet_pytorch.log" images_per_s "img=${lab_img:-32} ")
cpu=$(sed -n 's/.*"cpu_model": *"\([^"]*\)".*/\1/p' "$dir/case01_training_loop/results.json" 2>/dev/null | head -1)

tmp=$table.tmp
{
  echo "# The fast CPU rungs with each OpenBLAS threading layer"
  echo
  echo "Written by \`tools/blas_builds_table.sh\` at the end of \`make bench\` from the results"
  echo "files beside it; machine: ${cpu:-unknown}. Ratios are of median throughputs from the"
  echo "same bench. PyTorch's best: ${c1_peer:-not measured} samples/s (case01's MLP), ${lab_peer:-not measured}"
  echo "images/s (ResNet-18 at ${lab_img:-32} x ${lab_img:-32}), the best of its runs in \`case01_pytorch.log\`"
  echo "and \`lab_resnet_pytorch.log\` (default settings, OMP_WAIT_POLICY=passive, channels_last)."
  echo
  echo "| BLAS | case01 cpu_fast | cpu_fast / cpu_batched (>= 1.2) | cpu_fast / PyTorch (>= 1, goal 1.25) | case03 cpu_blas / cpu_blocked (>= 0.8) | lab CPU baseline | lab / PyTorch (>= 2) |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for d in "$dir" "$dir"/openblas_*; do
    [ -f "$d/case01_training_loop/results.csv" ] || continue
    c1=$d/case01_training_loop/results.csv
    fast=$(rate "$c1" cpu_fast)
    batched=$(rate "$c1" cpu_batched)
    blas=$(rate "$d/case03_gpu_migration/results.csv" cpu_blas)
    blocked=$(rate "$d/case03_gpu_migration/results.csv" cpu_blocked)
    lab=$(rate "$d/lab_resnet/results.csv" baseline)
    printf "| %s | %s samples/s | %s | %s | %s | %s images/s | %s |\n" \
      "$(blas_of "$d/case01_training_loop/results.json")" "${fast:-?}" \
      "$(verdict "$(ratio "$fast" "$batched")" 1.2)" \
      "$(verdict "$(ratio "$fast" "$c1_peer")" 1.0)" \
      "$(verdict "$(ratio "$blas" "$blocked")" 0.8)" "${lab:-?}" \
      "$(verdict "$(ratio "$lab" "$lab_peer")" 2.0)"
  done
} > "$tmp" && mv "$tmp" "$table" && cat "$table"
