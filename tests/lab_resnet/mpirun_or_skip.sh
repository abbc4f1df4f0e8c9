#!/usr/bin/env bash
# Runs a command on N MPI ranks of this machine, for the ddp tests:
#   mpirun_or_skip.sh MPIEXEC HAVE_MPI N COMMAND ARGS...
# Exit 77 (skipped) with one line when mpirun is missing or the lab was
# built without MPI (its ranks would each run alone). --oversubscribe: the
# tests run 3 ranks on 2 cores; as root Open MPI asks for its two variables.
set -u
mpiexec=$1 have_mpi=$2 n=$3
shift 3
if [ "$have_mpi" != "ON" ]; then
  echo "skipped: lab_resnet was built without MPI (apt-get install libopenmpi-dev openmpi-bin)" >&2
  exit 77
fi
if [ -z "$mpiexec" ] || ! command -v "$mpiexec" >/dev/null 2>&1; then
  echo "skipped: no mpirun (apt-get install openmpi-bin)" >&2
  exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec "$mpiexec" --oversubscribe -np "$n" "$@"
