#!/usr/bin/env bash
# Runs a command with a file size limit (ulimit -f, in KiB) and SIGXFSZ
# ignored, so that a write past the limit fails with EFBIG as a write to a
# full disk fails: the program must say so in one line, exit 3 and leave no
# half-written file (the tests check with run_expect.sh around this).
#   with_file_limit.sh KIB COMMAND ARGS...
set -u
[ $# -ge 2 ] || { echo "with_file_limit.sh: KIB COMMAND ARGS..." >&2; exit 2; }
ulimit -f "$1" || exit 2
shift
trap '' XFSZ
exec "$@"
