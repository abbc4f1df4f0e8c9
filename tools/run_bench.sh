#!/usr/bin/env bash
# `make bench`: each case at full size, recorded under DIR (docs/results),
# with the machine's description in DIR/summary.md and each results.json.
# Nothing here asserts a speed: the figures are for people to read.
set -u -o pipefail
out=${1:-docs/results}
build=${BUILD:-build}
mkdir -p "$out" || exit 2
status=0
# Each run's wall time, and the same case's --quick run's, go to
# run_times.log: the pages quote how long a run takes from there.
times_tmp="$out/run_times.log.tmp"
: > "$times_tmp" || exit 2
wall() {  # wall LABEL COMMAND...: COMMAND's status; its wall time appended to run_times.log
  local label=$1 t0 t1 rc; shift
  t0=$(date +%s.%N)
  "$@"; rc=$?
  t1=$(date +%s.%N)
  awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s: %.1f s\n", l, b - a }' >> "$times_tmp"
  return $rc
}
# One field (core, suggested, env, layer) of tools/blas_core's line.
blas_core_field() {
  "$build/tools/blas_core" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
# The OPENBLAS_CORETYPE that matches this CPU when OpenBLAS runs another
# core (0.3.21 takes some AVX-512 Xeons for Prescott, SSE3); empty otherwise.
matching_core() {
  local core suggested
  core=$(blas_core_field core)
  suggested=$(blas_core_field suggested)
  if [ -n "$suggested" ] && [ "${core,,}" != "${suggested,,}" ]; then echo "$suggested"; fi
}
run() {  # run CASE ARGS...: results in $out/CASE, log in $out/CASE.log
  run_named "$1" "$@"
}
run_named() {  # run_named NAME CASE ARGS...: the same, in $out/NAME and $out/NAME.log
  local name=$1 c=$2; shift 2
  local exe="$build/$c/$c" quick_out where="" label
  [ -x "$exe" ] || return 0
  [ "$out" = "$final_out" ] || where="${out##*/}/"
  label="$c $*"
  [ "$name" = "$c" ] || label="$name: $label"
  echo "################ $label ################"
  wall "$where$label" bash -c 'set -o pipefail; "$@" | tee "$0.log.tmp"' "$out/$name" "$exe" "$@" --out "$out/$name" &&
    mv "$out/$name.log.tmp" "$out/$name.log" || status=1
  # How long a first look takes: the same command with --quick (not for
  # the sized runs below, whose --quick is the plain one's).
  if [ "$out" = "$final_out" ] && [ "${BENCH_QUICK:-1}" = 1 ]; then
    local -a sub=()  # a subcommand (lab_resnet dataloader) comes along; options do not
    [ -n "${1:-}" ] && [ "${1#-}" = "$1" ] && sub=("$1")
    quick_out=$(mktemp -d "${TMPDIR:-/tmp}/bench_quick_XXXXXX") || return 1
    wall "$c ${sub[*]}${sub[*]:+ }--quick" "$exe" "${sub[@]}" --quick --out "$quick_out" > /dev/null || status=1
    rm -rf "$quick_out"
  fi
}
final_out=$out
peer() {  # peer NAME FUNCTION: FUNCTION's output into NAME.log; its failure fails the bench
  local name=$1; shift
  "$@" 2>&1 | tee "$out/$name.log.tmp" || status=1
  mv "$out/$name.log.tmp" "$out/$name.log"
}
# case03: the default job, plus the naive GEMM timed at n = 1024 so the GEMM
# table compares all three backends at one size.
run case03_gpu_migration --naive-gemm-n 1024
# case01: the default run (generated MNIST-shaped data), then its peer:
# PyTorch training the same network with the same batch and thread count,
# as the environment sets OpenBLAS up and with the core matching the CPU
# (a user who profiled would set it; see docs/case01_training_loop.md).
run case01_training_loop
torch_py=/usr/bin/python3
[ -x "$torch_py" ] || torch_py=python3
case01_peer() {
  local threads rc=0 suggested
  threads=$(nproc)
  echo "# PyTorch peer of case01 (docs/case01_pytorch_compare.py), $threads threads"
  "$torch_py" docs/case01_pytorch_compare.py --threads "$threads" || rc=1
  suggested=$(matching_core)
  if [ -n "$suggested" ]; then
    echo "# the environment's OpenBLAS core is $(blas_core_field core); again with OPENBLAS_CORETYPE=$suggested"
    OPENBLAS_CORETYPE=$suggested "$torch_py" docs/case01_pytorch_compare.py --threads "$threads" || rc=1
  fi
  # Debian's PyTorch runs its products on the system's OpenBLAS (pthreads by
  # default) and its own ops on OpenMP: the two pools of case03's step 4.
  # Its best setting, for a fair peer, may be OpenMP threads that sleep.
  echo "# again with OMP_WAIT_POLICY=passive (OpenMP's idle threads sleep instead of spinning)"
  OMP_WAIT_POLICY=passive "$torch_py" docs/case01_pytorch_compare.py --threads "$threads" || rc=1
  return $rc
}
if "$torch_py" -c "import torch" 2>/dev/null; then
  peer case01_pytorch case01_peer
else
  echo "PyTorch not installed: case01's peer comparison skipped (apt-get install python3-torch)"
fi
# case02: the default file (1,000,000 generated rows, read from the page cache),
# then its peer: the same job in pandas on the same file (the generator is
# deterministic: the default seed gives the bytes the case generated), its
# output compared byte for byte with the case's groups.csv and summary.csv.
run case02_data_pipeline
case02_peer() {
  local csv rc=0
  csv=$(mktemp "${TMPDIR:-/tmp}/case02_bench_XXXXXX.csv") || return 1
  echo "# pandas peer of case02 (docs/case02_pandas_compare.py) on the default input"
  { "$build/case02_data_pipeline/case02_data_pipeline" --generate 1000000 --out-csv "$csv" &&
      "$torch_py" docs/case02_pandas_compare.py --input "$csv" --expect "$out/case02_data_pipeline"; } 2>&1 |
    sed "s|$csv|(the default input, generated: seed 42, 1000000 rows)|" || rc=1
  rm -f "$csv"
  return $rc
}
if "$torch_py" -c "import pandas, numpy" 2>/dev/null && [ -x "$build/case02_data_pipeline/case02_data_pipeline" ]; then
  peer case02_pandas case02_peer
else
  echo "pandas not installed: case02's peer comparison skipped (apt-get install python3-pandas)"
fi
# case02 on files its default generator does not write: fast alone
# (--variant fast: checked against the reference, then its thread scaling)
# on 2,000,000 rows with about 390 groups (the default 12 categories over 30
# days), 1,200 (40 categories in five spellings), and about 90,000 (1,000
# and 10,000 merchant categories with Zipf frequencies over 90 days). The
# files are generated, used and removed; case02_group_counts.log holds the
# runs, then a table of their figures.
case02_group_runs() {  # case02_group_runs CSV OUT: each shape generated into CSV and run
  local exe="$build/case02_data_pipeline/case02_data_pipeline" rc=0 shape
  local -a shapes=("" "--categories 40" "--categories 1000 --days 90 --zipf 1"
                   "--categories 10000 --days 90 --zipf 1.5")
  for shape in "${shapes[@]}"; do
    echo "################ --generate 2000000 ${shape:-(the defaults)} ################"
    # shellcheck disable=SC2086  # the shape is several options
    "$exe" --generate 2000000 $shape --out-csv "$1" &&
      "$exe" --input "$1" --variant fast --no-plot --out "$2" 2>&1 |
      sed -e "s|$1|(generated: --rows 2000000 ${shape:-with the defaults})|" -e "s|$2|(a temporary folder)|" || rc=1
  done
  return $rc
}
case02_groups() {
  local csv res rc=0
  csv=$(mktemp "${TMPDIR:-/tmp}/case02_groups_XXXXXX.csv") || return 1
  res=$(mktemp -d "${TMPDIR:-/tmp}/case02_groups_XXXXXX") || return 1
  echo "# case02: fast at several group counts; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
  case02_group_runs "$csv" "$res/out" | tee "$res/runs.log" || rc=1
  echo
  # fast's timed runs (all threads), then its thread scaling at 1 and 2 threads: each a median
  echo "| file (2,000,000 rows) | groups | MB | fast, timed runs | fast, 1 thread | fast, 2 threads | check |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  awk '/^#+ --generate/ { shape = $0; sub(/^#+ --generate 2000000 /, "", shape); sub(/ #+$/, "", shape) }
       /Input: .* MB$/ { mb = $(NF - 1) }
       /rows summed into/ { groups = $5 }
       /^  fast +cpu / { median_s = $3 / ($4 == "ms" ? 1000 : $4 == "us" ? 1e6 : 1) }
       /^ +1 thread / { one = $5 }
       /^ +2 threads / { two = $5 }
       /^  fast +(PASS|FAIL)/ { check = $2 }
       /^  % of ceiling/ { printf "| %s | %s | %s | %.2f GB/s | %.2f GB/s | %.2f GB/s | %s |\n",
                           shape, groups, mb, mb / median_s / 1000, one / 1000, two / 1000, check }' "$res/runs.log"
  rm -rf "$csv" "$res"
  return $rc
}
if [ -x "$build/case02_data_pipeline/case02_data_pipeline" ]; then
  peer case02_group_counts case02_groups
fi
# lab_resnet: the default run (the profile, then the baseline epoch on the
# generated data), then PyTorch's training step on the same model, batch,
# image size and thread count, NCHW and channels_last (its best settings).
run lab_resnet
# lab_resnet Part 2, data loading: the sweep and the lab's configurations at
# the CPU's 32 x 32, then at the lab's 224 x 224 with a few batches of 8
# (a step there takes about a second on 2 cores), where loading weighs more.
run_named lab_resnet_dataloader lab_resnet dataloader
BENCH_QUICK=0 run_named lab_resnet_dataloader_224 lab_resnet dataloader --img-size 224 --batch 8 --batches 4 \
  --samples 512 --variant workers_0,workers_2,workers_4
# lab_resnet Part 3, mixed precision: every row at 32 x 32, then fp32, fp16
# and bf16 at the lab's 224 x 224 (a few batches of 8), where the
# activations are most of the memory.
run_named lab_resnet_amp lab_resnet amp
# fp32 and bf16 again with the lab's bf16 GEMM turned off: bf16 then only
# stores 16 bits and multiplies in the fp32 SGEMM, which measures what the
# CPU's bf16 products (AVX-512 BF16, where it has them) give.
RN_CPU_BF16_GEMM=off BENCH_QUICK=0 run_named lab_resnet_amp_bf16_off lab_resnet amp --variant fp32,bf16
# Where OpenBLAS runs another core than the one matching this CPU, fp32
# and bf16 again with the matching one: fp32 at the CPU's own speed, and
# the bf16 GEMM measured against that SGEMM (the default
# RN_CPU_BF16_GEMM=auto decides by that measurement).
amp_core=$(matching_core)
if [ -n "$amp_core" ]; then
  OPENBLAS_CORETYPE=$amp_core BENCH_QUICK=0 run_named lab_resnet_amp_coretype lab_resnet amp --variant fp32,bf16
else
  rm -rf "$out/lab_resnet_amp_coretype"
  echo "# OpenBLAS's core $(blas_core_field core) matches this CPU: no run with another core" > "$out/lab_resnet_amp_coretype.log"
fi
BENCH_QUICK=0 run_named lab_resnet_amp_224 lab_resnet amp --img-size 224 --batch 8 --batches 4 --samples 512 \
  --variant fp32,fp16,bf16
# The activations' layout at the GPU benchmark's configuration (224, batch
# 32): the arena's figures do not depend on the backend, so this is the
# activation peak a GPU run of this version has (two batches: memory, not speed).
BENCH_QUICK=0 run_named lab_resnet_amp_224_b32 lab_resnet amp --img-size 224 --batch 32 --batches 2 --samples 64 \
  --repeat 1 --warmup 0 --variant fp32,bf16 --eval-batches 1
# lab_resnet Part 4, memory: accumulation and checkpointing, and the largest
# batch in a budget, at 32 x 32, then at the lab's 224 x 224 (8 batches of
# 8, so that accum_8 takes one step), where the activations dominate.
run_named lab_resnet_memory lab_resnet memory --mem-budget 512
BENCH_QUICK=0 run_named lab_resnet_memory_224 lab_resnet memory --img-size 224 --batch 8 --batches 8 --samples 512 \
  --repeat 2 --mem-budget 2048
# The lab's bonus challenge 2: ResNet-50 through the same rows and the same
# budget (8 batches of 32 at 32 x 32; a step takes about four times ResNet-18's).
BENCH_QUICK=0 run_named lab_resnet_memory_resnet50 lab_resnet memory --arch resnet50 --batches 8 --repeat 2 \
  --mem-budget 512
# lab_resnet Part 5, compilation: eager against the fused operations (the
# CUDA graph row on a GPU) at 32 x 32, batch 32; then at a size this
# project did not tune them for (64 x 64, 12 batches).
run_named lab_resnet_compile lab_resnet compile
BENCH_QUICK=0 run_named lab_resnet_compile_64 lab_resnet compile --img-size 64 --batches 12
# lab_resnet Part 6: the lab's configurations together and the profiling
# lab's, the dashboard and the report.
run_named lab_resnet_compare lab_resnet compare
# The distributed lab on 2 ranks (mpirun; the default run: 24 global
# batches of 32, 25 MiB buckets), then with a global batch and a bucket size
# this project did not pick (64, 4 MiB) and on 3 ranks (oversubscribed on
# 2 cores: the communication's share when ranks outnumber cores).
mpi_named() {  # mpi_named NAME RANKS ARGS...: lab_resnet under mpirun, as run_named
  local name=$1 np=$2; shift 2
  [ -x "$build/lab_resnet/lab_resnet" ] || return 0
  if [ "$(grep -s '^CS_HAVE_MPI:' "$build/CMakeCache.txt" | cut -d= -f2)" != ON ] || ! command -v mpirun >/dev/null 2>&1; then
    echo "$name: skipped (lab_resnet built without MPI, or no mpirun)" | tee "$out/$name.log"
    return 0
  fi
  echo "################ $name: mpirun -np $np lab_resnet $* ################"
  wall "$name: mpirun -np $np lab_resnet $*" bash -c 'set -o pipefail; "$@" | tee "$0.log.tmp"' "$out/$name" \
    env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np "$np" \
    "$build/lab_resnet/lab_resnet" "$@" --out "$out/$name" && mv "$out/$name.log.tmp" "$out/$name.log" || status=1
}
mpi_named lab_resnet_ddp 2 ddp
mpi_named lab_resnet_ddp_b64 2 ddp --batch 64 --bucket-mb 4 --batches 12
mpi_named lab_resnet_ddp_np3 3 ddp --batches 12 --repeat 2
# lab_resnet all --quick: the six parts in a row, timed (the lab asks for
# 2 minutes on 2 cores); its output is not kept, its time is.
if [ -x "$build/lab_resnet/lab_resnet" ]; then
  all_tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_all_XXXXXX") || exit 2
  t0=$(date +%s.%N)
  "$build/lab_resnet/lab_resnet" all --quick --out "$all_tmp" > "$all_tmp/all.log" 2>&1; all_rc=$?
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v rc="$all_rc" -v c="$(nproc)" \
    'BEGIN { printf "lab_resnet all --quick: %.1f s on %d cores (exit code %d)\n", b - a, c, rc }' \
    > "$out/lab_resnet_all_quick.log"
  grep -E "^######## Part|All six parts" "$all_tmp/all.log" | sed "s|$all_tmp|OUT|g" >> "$out/lab_resnet_all_quick.log"
  [ "$all_rc" -eq 0 ] || status=1
  rm -rf "$all_tmp"
fi
lab_peer() {
  local threads rc=0
  threads=$(nproc)
  echo "# PyTorch peer of lab_resnet (docs/lab_resnet_pytorch_bench.py), $threads threads"
  "$torch_py" docs/lab_resnet_pytorch_bench.py --threads "$threads" || rc=1
  "$torch_py" docs/lab_resnet_pytorch_bench.py --threads "$threads" --channels-last || rc=1
  echo "# again with OMP_WAIT_POLICY=passive (see case01's peer)"
  OMP_WAIT_POLICY=passive "$torch_py" docs/lab_resnet_pytorch_bench.py --threads "$threads" || rc=1
  OMP_WAIT_POLICY=passive "$torch_py" docs/lab_resnet_pytorch_bench.py --threads "$threads" --channels-last || rc=1
  # Part 3's numerics: check-step --precision bf16 against PyTorch's float64
  # step and its own bf16 autocast (informative: see docs/lab_resnet.md).
  # Part 3's peer: PyTorch's own bf16 autocast on this CPU (its fp16
  # autocast is GPU-only in 1.13), the same model, batch and threads.
  echo "# PyTorch autocast bf16 on the CPU (lab_resnet amp's peer)"
  "$torch_py" docs/lab_resnet_pytorch_bench.py --threads "$threads" --amp bf16 --steps 5 --warmup 1 || rc=1
  echo "# check-step --precision bf16 against PyTorch (docs/compare_with_pytorch.py --precision bf16)"
  "$torch_py" docs/compare_with_pytorch.py --lab "$build/lab_resnet/lab_resnet" --batch 8 --seed 1 \
    --precision bf16 | sed 's|files in /[^)]*|files in a temporary folder|' || rc=1
  return $rc
}
# Part 4's bonus challenge: ResNet-50's check-step against torchvision's
# resnet50 in float64 (the CTest compare_with_pytorch_resnet50, recorded).
lab_compare_resnet50() {
  "$torch_py" docs/compare_with_pytorch.py --lab "$build/lab_resnet/lab_resnet" --batch 16 --seed 1 \
    --arch resnet50 | sed 's|files in /[^)]*|files in a temporary folder|'
}
if "$torch_py" -c "import torch, torchvision" 2>/dev/null; then
  peer lab_resnet_pytorch lab_peer
  peer lab_resnet_compare_resnet50 lab_compare_resnet50
else
  echo "PyTorch or torchvision not installed: lab_resnet's peer comparison skipped (apt-get install python3-torchvision)"
fi
# The CPU ladders again against the other OpenBLAS threading layer: a user
# who installs only libopenblas-dev gets Debian's pthreads build, which the
# suite must run as fast as the OpenMP build it prefers. A CPU-only build of
# its own, results under $out/openblas_pthread/ (or openblas_openmp/ when the
# main build already runs the pthreads one); then one table of both builds
# against their targets and the PyTorch peers (tools/blas_builds_table.sh).
main_layer=$(blas_core_field layer)
triplet=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
if [ "$main_layer" = pthreads ]; then other=openmp; else other=pthread; fi
other_lib=/usr/lib/$triplet/openblas-$other/libopenblas.so
other_inc=/usr/include/$triplet/openblas-$other
if [ -n "$main_layer" ] && [ "$main_layer" != none ] && [ -f "$other_lib" ] && [ -f "$other_inc/cblas.h" ]; then
  echo "################ the CPU ladders against OpenBLAS's $other build ################"
  other_build=$build-openblas-$other
  if cmake -S . -B "$other_build" -DCS_WITH_CUDA=OFF -DCS_OPENBLAS_LIBRARY="$other_lib" \
       -DCS_CBLAS_INCLUDE_DIR="$other_inc" >/dev/null &&
     cmake --build "$other_build" -j "$(nproc)" --target case01_training_loop case03_gpu_migration lab_resnet >/dev/null; then
    ( build=$other_build; out=$out/openblas_$other; mkdir -p "$out" || exit 1; status=0
      run case03_gpu_migration --device cpu --naive-gemm-n 1024
      run case01_training_loop --device cpu
      run lab_resnet --device cpu
      run_named lab_resnet_compile lab_resnet compile --device cpu
      exit $status ) || status=1
  else
    echo "the $other build failed to configure or build"; status=1
  fi
else
  echo "OpenBLAS's other threading layer ($other_lib) not installed: one build measured" \
       "(apt-get install libopenblas-pthread-dev libopenblas-openmp-dev)"
fi
bash tools/blas_builds_table.sh "$out" || status=1
"$build/tools/suite_summary" "$out" "$out/summary.md" || status=1
mv "$times_tmp" "$out/run_times.log" || status=1
# The pages in docs/ quote these runs: render them from what was just recorded,
# and the course's claims against them (docs/claims.md).
if [ "$out" = docs/results ]; then
  python3 tools/docs_pages.py || status=1
  python3 tools/claims.py || status=1
fi
exit $status
