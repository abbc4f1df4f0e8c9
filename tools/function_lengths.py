#!/usr/bin/env python3
"""Lists the C/CUDA functions longer than a limit (issue 14: at most 150
lines in common/ and every case folder). A function is counted from the line
holding the start of its signature (a line starting at column 0 that is not
a preprocessor line, a comment or a declaration ending in ';') to its closing
brace at column 0. Exit 1 when one is over the limit, 0 otherwise.

main() has its own limit (--main-limit, 60: main reads as the case study
in a page, the steps' narration living in the case's own functions).

usage: function_lengths.py [--limit N] [--main-limit M] [--top K] PATH...
"""
import os
import re
import sys

EXTS = (".c", ".cu", ".h", ".cuh")
SIGNATURE = re.compile(r'^(extern "C" )?[A-Za-z_][\w \t\*\(\),\[\]]*\(')   # type ... name(


def functions(path):
    """(name, first line, length) of each function defined in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    found = []
    start = None
    name = None
    depth = 0
    for i, line in enumerate(lines):
        if depth == 0:
            if start is None and SIGNATURE.match(line) and not line.rstrip().endswith(";") \
                    and not line.startswith(("typedef", "struct", "enum", "union", "static const",
                                             "const ", "extern int", "extern void", "extern const",
                                             "#")):
                start = i
                m = re.search(r"(\w+)\s*\(", line)
                name = m.group(1) if m else "?"
            elif start is not None and line.rstrip().endswith(";") and "{" not in line:
                start = None          # a prototype over several lines
        opens = line.count("{") - line.count("}")
        if start is not None:
            depth += opens
            if depth == 0 and line.startswith("}"):
                found.append((name, start + 1, i - start + 1))
                start = None
        else:
            depth = max(0, depth + opens)
    return found


def main(argv):
    limit, main_limit, top, paths = 150, 60, 0, []
    i = 0
    while i < len(argv):
        if argv[i] == "--limit":
            limit = int(argv[i + 1]); i += 2
        elif argv[i] == "--main-limit":
            main_limit = int(argv[i + 1]); i += 2
        elif argv[i] == "--top":
            top = int(argv[i + 1]); i += 2
        else:
            paths.append(argv[i]); i += 1
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(EXTS)]
        else:
            files.append(p)
    every = [(length, f, line, name) for f in files for (name, line, length) in functions(f)]
    every.sort(reverse=True)
    over = [e for e in every if e[0] > (main_limit if e[3] == "main" else limit)]
    for length, f, line, name in (every[:top] if top else over):
        print(f"{f}:{line}: {name}: {length} lines")
    if over:
        print(f"{len(over)} function(s) over the limit ({limit} lines, main {main_limit})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
