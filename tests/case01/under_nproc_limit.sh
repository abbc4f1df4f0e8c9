#!/usr/bin/env bash
# Runs run_expect.sh with its command under a process limit of 1
# (RLIMIT_NPROC, ulimit -u), so that no thread can be created: the case must
# say so in one line and exit 3 before any work (common/cs_cli.c starts the
# OpenMP team at start-up), not die with libgomp's exit code 1 in mid-run.
#   under_nproc_limit.sh RUN_EXPECT [checks...] -- COMMAND ARGS...
# The limit does not bind root: as root the command runs as nobody
# (setpriv). Exit 77 (skipped) where that cannot be arranged.
set -u
expect=$1; shift
checks=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do checks+=("$1"); shift; done
[ $# -gt 1 ] || { echo "under_nproc_limit.sh: no command" >&2; exit 2; }
shift
command -v prlimit >/dev/null || { echo "skipped: prlimit not found (util-linux)"; exit 77; }
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null || { echo "skipped: root, and no setpriv to run as nobody"; exit 77; }
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
# The user must be able to run the program at all (a build folder it cannot read).
"${as_user[@]}" "$1" --version >/dev/null 2>&1 ||
  { echo "skipped: $1 cannot be run as user $(${as_user[@]} id -un 2>/dev/null || echo nobody)"; exit 77; }
exec bash "$expect" "${checks[@]}" -- "${as_user[@]}" prlimit --nproc=1 "$@"
