#!/usr/bin/env bash
# case02 with files that are not plain files, and interrupted runs
# (tests/case02/cli_tests.cmake). Each check sets up its own folder, runs the
# case, then checks what it left; it ends with the case's exit code (its
# one-line error on stderr), or prints one line and exits 99 when something
# is wrong with what was left.
#   special_files.sh CASE_EXE DIR CHECK
set -u
c2=$1 check=$3 dir=$2/$3
data=$(cd "$(dirname "$0")" && pwd)/data
rm -rf "$dir" && mkdir -p "$dir" || exit 99
run=(--repeat 1 --warmup 0 --no-plot --out "$dir/out")
wrong() { echo "special_files.sh: $*" >&2; exit 99; }

case $check in
input-fifo)           # a FIFO would block the first read: refused before any open
  mkfifo "$dir/in.fifo" || exit 77
  "$c2" --input "$dir/in.fifo" "${run[@]}"; rc=$?
  [ -p "$dir/in.fifo" ] || wrong "the FIFO is gone"
  [ ! -e "$dir/out" ] || wrong "an output folder was made"
  exit $rc ;;
input-symlink)        # a link to a CSV is read like the CSV
  ln -s "$data/edge_rows.csv" "$dir/link.csv" || exit 77
  exec "$c2" --input "$dir/link.csv" --variant slow,fast "${run[@]}" ;;
input-symlink-to-device)
  ln -s /dev/null "$dir/to_null.csv" || exit 77
  exec "$c2" --input "$dir/to_null.csv" "${run[@]}" ;;
input-dangling-symlink)
  ln -s "$dir/missing.csv" "$dir/dangling.csv" || exit 77
  exec "$c2" --input "$dir/dangling.csv" "${run[@]}" ;;
out-device)
  # A device node of our own (root), so that a failure of the check could
  # only replace that one; without root, /dev/null itself is safe to name.
  dev=/dev/null
  if [ "$(id -u)" = 0 ]; then
    dev=$dir/null
    mknod "$dev" c 1 3 2>/dev/null || exit 77
  fi
  "$c2" --generate 10 --out-csv "$dev"; rc=$?
  [ -c "$dev" ] || wrong "$dev is no longer a character device"
  [ -z "$(ls -A "$dir" | grep -v '^null$')" ] || wrong "files left: $(ls -A "$dir")"
  exit $rc ;;
out-fifo)
  mkfifo "$dir/out.fifo" || exit 77
  "$c2" --generate 10 --out-csv "$dir/out.fifo"; rc=$?
  [ -p "$dir/out.fifo" ] || wrong "the FIFO was replaced"
  [ "$(ls -A "$dir")" = out.fifo ] || wrong "files left: $(ls -A "$dir")"
  exit $rc ;;
out-symlink)          # neither followed (the target is kept) nor replaced
  echo keep >"$dir/target.txt" && ln -s target.txt "$dir/link.csv" || exit 77
  "$c2" --generate 10 --out-csv "$dir/link.csv"; rc=$?
  [ -L "$dir/link.csv" ] || wrong "the link was replaced"
  [ "$(cat "$dir/target.txt")" = keep ] || wrong "the link's target was written"
  exit $rc ;;
out-write-error)      # a file size limit: write() fails with EFBIG (SIGXFSZ ignored)
  (ulimit -f 64 && trap '' XFSZ && exec "$c2" --generate 200000 --out-csv "$dir/big.csv"); rc=$?
  [ -z "$(ls -A "$dir")" ] || wrong "files left: $(ls -A "$dir")"
  exit $rc ;;
signal-int|signal-term)
  # slow's run holds the generated input and its intermediate file in
  # TMPDIR; the signal comes once both are there.
  sig=${check#signal-}
  mkdir "$dir/tmp" || exit 99
  set -m              # job control: the background run does not ignore SIGINT
  TMPDIR=$dir/tmp "$c2" --rows 300000 --variant slow --repeat 3 --no-plot --out "$dir/out" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    compgen -G "$dir/tmp/case02_slow_*" >/dev/null && break
    sleep 0.02
  done
  had=$(ls "$dir/tmp")
  echo "$had" | grep -q '^case02_slow_' || wrong "no intermediate file seen (had: $had)"
  echo "$had" | grep -q '^case02_data_pipeline_.*\.csv$' || wrong "no generated input seen (had: $had)"
  kill "-${sig^^}" "$pid"
  wait "$pid"; rc=$?
  left=$(ls -A "$dir/tmp")
  [ -z "$left" ] || wrong "left in TMPDIR after SIG${sig^^}: $left"
  echo "status $rc, nothing left (there were: $(echo $had))"
  exit 0 ;;
signal-term-generate) # --generate: the output under its temporary name
  set -m
  "$c2" --generate 20000000 --out-csv "$dir/gen.csv" &
  pid=$!
  for _ in $(seq 1 3000); do
    compgen -G "$dir/gen.csv.tmp.*" >/dev/null && break
    sleep 0.02
  done
  compgen -G "$dir/gen.csv.tmp.*" >/dev/null || wrong "no temporary output seen"
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  left=$(ls -A "$dir")
  [ -z "$left" ] || wrong "left after SIGTERM: $left"
  echo "status $rc, nothing left"
  exit 0 ;;
*) wrong "unknown check $check" ;;
esac
