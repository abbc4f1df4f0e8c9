#!/bin/sh
# Lists the C/CUDA files that clang-format (with the repository's
# .clang-format) would change; exit 1 when there is one. Fix with
#   clang-format -i FILE...
cd "$(dirname "$0")/.." || exit 2
command -v clang-format >/dev/null 2>&1 || { echo "check_format: clang-format not installed" >&2; exit 77; }
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "check_format: not a git work tree" >&2; exit 77; }
status=0
for f in $(git ls-files '*.c' '*.h' '*.cu' '*.cuh'); do
    if ! clang-format "$f" | cmp -s - "$f"; then
        echo "$f"
        status=1
    fi
done
exit $status
