#!/usr/bin/env bash
# Runs a command and checks how it ended. Used by the CTest tests of every case.
#   run_expect.sh [checks...] -- COMMAND ARGS...
# checks:
#   --code N            exit code must be N (default 0)
#   --stdout REGEX      stdout must match (grep -E), repeatable
#   --stderr REGEX      stderr must match, repeatable
#   --no-stdout REGEX   stdout must not match
#   --stderr-lines N    stderr must have exactly N lines (a one-line error)
#   --file PATH         PATH must exist and be non-empty after the run
#   --absent PATH       PATH must not exist after the run (no half-written output)
#   --skip-if REGEX     exit 77 (skipped) when stderr matches (e.g. no GPU);
#                       a failure instead where CS_REQUIRE_GPU=1
#   --env NAME=VALUE    set in the command's environment
#   --rm PATH           remove PATH before the run
#   --same A B          files A and B must be identical after the run
#   --file-has PATH RE  a line of PATH must match RE (grep -E), repeatable
#   --file-lacks PATH RE  no line of PATH may match RE (PATH must exist), repeatable
set -u
code=0
declare -a out_re=() err_re=() no_out_re=() files=() absent=() envs=() same=() has=() lacks=()
skip_re=""
err_lines=""
while [ $# -gt 0 ]; do
  case "$1" in
    --code) code=$2; shift 2 ;;
    --stdout) out_re+=("$2"); shift 2 ;;
    --stderr) err_re+=("$2"); shift 2 ;;
    --no-stdout) no_out_re+=("$2"); shift 2 ;;
    --stderr-lines) err_lines=$2; shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --absent) absent+=("$2"); shift 2 ;;
    --skip-if) skip_re=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --rm) rm -rf -- "$2"; shift 2 ;;
    --same) same+=("$2" "$3"); shift 3 ;;
    --file-has) has+=("$2" "$3"); shift 3 ;;
    --file-lacks) lacks+=("$2" "$3"); shift 3 ;;
    --) shift; break ;;
    *) echo "run_expect.sh: unknown check '$1'" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "run_expect.sh: no command" >&2; exit 2; }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
env "${envs[@]}" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
fail=0
say() { echo "run_expect: $*" >&2; fail=1; }
if [ -n "$skip_re" ] && grep -Eq -- "$skip_re" "$tmp/err"; then
  # CS_REQUIRE_GPU=1 (tools/gpu_verify.sh on a GPU machine): a skip fails.
  if [ "${CS_REQUIRE_GPU:-}" = 1 ]; then
    echo "run_expect: CS_REQUIRE_GPU=1 and the test would be skipped: $(head -n1 "$tmp/err")" >&2
    exit 1
  fi
  echo "skipped: $(head -n1 "$tmp/err")"
  exit 77
fi
[ "$rc" -eq "$code" ] || say "exit code $rc, expected $code"
for r in "${out_re[@]}"; do grep -Eq -- "$r" "$tmp/out" || say "stdout does not match: $r"; done
for r in "${no_out_re[@]}"; do ! grep -Eq -- "$r" "$tmp/out" || say "stdout matches (must not): $r"; done
for r in "${err_re[@]}"; do grep -Eq -- "$r" "$tmp/err" || say "stderr does not match: $r"; done
if [ -n "$err_lines" ]; then
  n=$(wc -l <"$tmp/err")
  [ "$n" -eq "$err_lines" ] || say "stderr has $n lines, expected $err_lines"
fi
for f in "${files[@]}"; do [ -s "$f" ] || say "missing or empty file: $f"; done
for f in "${absent[@]}"; do [ ! -e "$f" ] || say "must not exist: $f"; done
for ((i = 0; i < ${#has[@]}; i += 2)); do
  grep -Eq -- "${has[i+1]}" "${has[i]}" 2>/dev/null || say "no line of ${has[i]} matches: ${has[i+1]}"
done
for ((i = 0; i < ${#lacks[@]}; i += 2)); do
  if [ ! -f "${lacks[i]}" ]; then say "${lacks[i]} is missing"; continue; fi
  ! grep -Eq -- "${lacks[i+1]}" "${lacks[i]}" || say "a line of ${lacks[i]} matches (must not): ${lacks[i+1]}"
done
for ((i = 0; i < ${#same[@]}; i += 2)); do
  if ! cmp -s -- "${same[i]}" "${same[i+1]}"; then
    say "files differ: ${same[i]} ${same[i+1]}"
    diff -- "${same[i]}" "${same[i+1]}" >&2 | head -n 20
  fi
done
if [ "$fail" -ne 0 ]; then
  echo "---- command: $*" >&2
  echo "---- stdout (last 40 lines):" >&2; tail -n 40 "$tmp/out" >&2
  echo "---- stderr:" >&2; cat "$tmp/err" >&2
  exit 1
fi
echo "ok: exit $rc"
exit 0
