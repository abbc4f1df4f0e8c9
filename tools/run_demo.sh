#!/usr/bin/env bash
# `make demo`: run every case that was built, in its default mode, then put
# one table across the cases on the screen and in RESULTS/summary.md.
# Usage: tools/run_demo.sh [RESULTS_DIR]   (BUILD=build, DEMO_ARGS="--quick")
set -u
out=${1:-results}
build=${BUILD:-build}
mkdir -p "$out" || exit 2
status=0
ran=0
for c in case01_training_loop case02_data_pipeline case03_gpu_migration lab_resnet; do
  exe="$build/$c/$c"
  if [ ! -x "$exe" ]; then
    continue
  fi
  echo
  echo "################ $c ################"
  # shellcheck disable=SC2086  # DEMO_ARGS is a list of options
  "$exe" --out "$out/$c" ${DEMO_ARGS:-}
  rc=$?
  ran=$((ran + 1))
  if [ "$rc" -ne 0 ]; then
    echo "$c exited with code $rc" >&2
    status=1
  fi
done
# The lab's Part 2 (data loading), Part 3 (mixed precision) and Part 4
# (memory), each its own folder beside Part 1's.
if [ -x "$build/lab_resnet/lab_resnet" ]; then
  echo
  echo "################ lab_resnet dataloader ################"
  # shellcheck disable=SC2086
  "$build/lab_resnet/lab_resnet" dataloader --out "$out/lab_resnet_dataloader" ${DEMO_ARGS:-} || {
    echo "lab_resnet dataloader failed" >&2
    status=1
  }
  echo
  echo "################ lab_resnet amp ################"
  # shellcheck disable=SC2086
  "$build/lab_resnet/lab_resnet" amp --out "$out/lab_resnet_amp" ${DEMO_ARGS:-} || {
    echo "lab_resnet amp failed" >&2
    status=1
  }
  echo
  echo "################ lab_resnet memory ################"
  # shellcheck disable=SC2086
  "$build/lab_resnet/lab_resnet" memory --mem-budget 384 --out "$out/lab_resnet_memory" ${DEMO_ARGS:-} || {
    echo "lab_resnet memory failed" >&2
    status=1
  }
  for part in compile compare; do
    echo
    echo "################ lab_resnet $part ################"
    # shellcheck disable=SC2086
    "$build/lab_resnet/lab_resnet" "$part" --out "$out/lab_resnet_$part" ${DEMO_ARGS:-} || {
      echo "lab_resnet $part failed" >&2
      status=1
    }
  done
  echo
  echo "################ lab_resnet ddp (mpirun -np 2) ################"
  if [ "$(grep -s '^CS_HAVE_MPI:' "$build/CMakeCache.txt" | cut -d= -f2)" != ON ]; then
    echo "lab_resnet ddp skipped: built without MPI (apt-get install libopenmpi-dev openmpi-bin, then make demo)"
  elif ! command -v mpirun >/dev/null 2>&1; then
    echo "lab_resnet ddp skipped: no mpirun (apt-get install openmpi-bin)"
  else
    # As root Open MPI asks for these two; 2 ranks fit any machine with 2 cores
    # or more (--oversubscribe for one core).
    # shellcheck disable=SC2086
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 \
      "$build/lab_resnet/lab_resnet" ddp --quick --out "$out/lab_resnet_ddp" ${DEMO_ARGS:-} || {
      echo "lab_resnet ddp failed" >&2
      status=1
    }
  fi
fi
if [ "$ran" -eq 0 ]; then
  echo "no case executables under $build/ (run: make build)" >&2
  exit 2
fi
echo
"$build/tools/suite_summary" "$out" "$out/summary.md" || status=1
exit $status
