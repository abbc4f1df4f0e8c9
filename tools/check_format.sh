#!/bin/sh
# Lists the C/CUDA files that clang-format (with the repository's
# .clang-format) would change; exit 1 when there is one. Fix with
#   clang-format -i FILE...
# One clang-format per file, as many at once as there are cores.
cd "$(dirname "$0")/.." || exit 2
command -v clang-format >/dev/null 2>&1 || { echo "check_format: clang-format not installed" >&2; exit 77; }
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "check_format: not a git work tree" >&2; exit 77; }
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
changed=$(git ls-files -z '*.c' '*.h' '*.cu' '*.cuh' |
    xargs -0 -n 8 -P "$jobs" sh -c 'for f; do clang-format "$f" | cmp -s - "$f" || echo "$f"; done' sh)
[ -z "$changed" ] && exit 0
echo "$changed"
exit 1
