#!/usr/bin/env python3
"""The pages in docs/ are generated: docs/src/<page>.md, with its figures
written as expressions over the recorded runs in docs/results/, renders into
docs/<page>.md. `make bench` records the runs and renders the pages, so a
page's figures are always the ones its results files hold.

    python3 tools/docs_pages.py            render every docs/src/*.md
    python3 tools/docs_pages.py --check    fail if a page is stale, or if a
                                           template types a figure by hand

Template syntax (everything else is Markdown, copied as is):

    {% use c3 = case03_gpu_migration %}
        binds c3 to docs/results/case03_gpu_migration/ (its results.json) and
        docs/results/case03_gpu_migration.log; either may be missing, e.g.
        {% use pt = case01_pytorch %} for a log alone; a name with its
        extension (gpu_h100/README.md) binds that text file as the log.
        The line is dropped.
    {{ EXPR }}  or  {{ EXPR | FORMAT }}
        EXPR is a Python expression over the bound runs:
          c3.cpu_blocked.median_s   a field of a variant's row in results.json
          c3.system.cpu_model       the machine; c3.config.n the run's options
          c3.log(r"reaches ([0-9.]+)% of OpenBLAS")
                                    the first match's group 1 in the log, as
                                    printed (a number with its text kept)
          compare(c3.cpu_blocked, c3.cpu_blas)
                                    "1.0x faster", "1.1x slower" or "no faster
                                    within the measured spread (...)", as the
                                    cases print it (cs_compare_phrase)
          const("60 s")             a figure that is not a measurement (a
                                    target, a size, a specification): said so
        FORMAT: time (as the cases print times: 16.4 ms), comma (1,000,000),
        or a printf format (%.1f, %.2fx, %.0f%%).

A figure typed by hand outside {{ }} (a number with a unit such as ms, s,
GB/s, img/s, %, MB or an "x" speedup) fails --check, naming the page and line:
the figure either comes from a results file or is declared with const().
"""
import argparse
import json
import math
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = ("<!-- Generated from docs/src/{name} by tools/docs_pages.py with the runs in "
          "docs/results/: edit the template, then run `make docs` (`make bench` does). -->\n")

USE_RE = re.compile(r"^\{%\s*use\s+(\w+)\s*=\s*([\w./-]+)\s*%\}\s*$")
FIELD_RE = re.compile(r"\{\{(.*?)\}\}")
# A number followed by a unit of measure, or an attached "x" (115x, 1.03x).
FIGURE_RE = re.compile(
    r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:\s?(?:ns|us|µs|ms|s|min|GFLOP/s|TFLOP/s|GB/s|MB/s|KB/s|img/s|"
    r"images/s|samples/s|rows/s|MB|GB|GiB|MiB|KiB|KB|MHz|GHz|%)|x)(?![\w/])")


class TemplateError(Exception):
    pass


class Fields:
    """A JSON object whose keys read as attributes; a missing one names the file."""

    def __init__(self, data, where):
        self._data, self._where = data, where

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        if key not in self._data:
            raise TemplateError(f"{self._where} has no '{key}' (it has: {', '.join(self._data)})")
        value = self._data[key]
        return Fields(value, f"{self._where}.{key}") if isinstance(value, dict) else value

    def __getitem__(self, key):
        return self.__getattr__(key)


class Run:
    """One recorded run: docs/results/<name>/results.json and docs/results/<name>.log."""

    def __init__(self, results_dir, name):
        self.name = name
        self._json_path = os.path.join(results_dir, name, "results.json")
        self._log_path = os.path.join(results_dir, name + ".log")
        if os.path.splitext(name)[1] in (".md", ".txt", ".log"):  # a text file alone, read as the log
            self._log_path = os.path.join(results_dir, name)
        self._json = None
        self._log = None

    def _results(self):
        if self._json is None:
            if not os.path.exists(self._json_path):
                raise TemplateError(f"{os.path.relpath(self._json_path)} does not exist")
            with open(self._json_path, encoding="utf-8") as f:
                self._json = json.load(f)
        return self._json

    def log_text(self):
        if self._log is None:
            if not os.path.exists(self._log_path):
                raise TemplateError(f"{os.path.relpath(self._log_path)} does not exist")
            with open(self._log_path, encoding="utf-8", errors="replace") as f:
                self._log = f.read()
        return self._log

    def log(self, pattern, group=1, nth=0):
        """Group `group` of the nth match of `pattern` in the log, as printed."""
        matches = list(re.finditer(pattern, self.log_text(), re.MULTILINE))
        if len(matches) <= nth:
            raise TemplateError(f"{self.name}.log: no match {nth + 1} for /{pattern}/")
        return Printed(matches[nth].group(group))

    def variant(self, name):
        rows = self._results()["results"]
        for row in rows:
            if row["variant"] == name:
                return Fields(row, f"{self.name}/results.json[{name}]")
        raise TemplateError(f"{self.name}/results.json has no variant '{name}' "
                            f"(it has: {', '.join(r['variant'] for r in rows)})")

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        data = self._results()
        if key in ("system", "config"):
            return Fields(data[key], f"{self.name}/results.json.{key}")
        if key in data and key != "results":
            value = data[key]
            return Fields(value, f"{self.name}/results.json.{key}") if isinstance(value, dict) else value
        return self.variant(key)


class Printed(str):
    """Text as a log printed it; float() and arithmetic read it as a number."""

    def num(self):
        text = self.replace(",", "").rstrip("x%")
        try:
            return float(text)
        except ValueError:
            raise TemplateError(f"'{self}' is not a number") from None

    def __float__(self):
        return self.num()

    def _arith(op):
        return lambda self, other: op(self.num(), float(other))

    __truediv__ = _arith(lambda a, b: a / b)
    __rtruediv__ = _arith(lambda a, b: b / a)
    __mul__ = _arith(lambda a, b: a * b)
    __rmul__ = __mul__
    __sub__ = _arith(lambda a, b: a - b)
    __rsub__ = _arith(lambda a, b: b - a)
    __lt__ = _arith(lambda a, b: a < b)
    __gt__ = _arith(lambda a, b: a > b)
    __le__ = _arith(lambda a, b: a <= b)
    __ge__ = _arith(lambda a, b: a >= b)
    # A sum still concatenates text: use .num() + ... for arithmetic.


class Const(str):
    """A figure that is not a measurement (a target, a size, a specification)."""


def format_time(seconds):
    """cs_format_time: three significant digits in ns, us, ms or s."""
    seconds = float(seconds)
    if math.isnan(seconds):
        return "n/a"
    if seconds == 0:
        return "0 s"
    mag = abs(seconds)
    if mag >= 0.9995:
        unit, v = "s", seconds
    elif mag >= 0.9995e-3:
        unit, v = "ms", seconds * 1e3
    elif mag >= 0.9995e-6:
        unit, v = "us", seconds * 1e6
    else:
        unit, v = "ns", seconds * 1e9
    a = abs(v)
    decimals = 0 if a >= 99.95 else 1 if a >= 9.995 else 2
    return f"{v:.{decimals}f} {unit}"


def compare(before, after):
    """cs_compare_phrase over two results.json rows: a tie when the ranges overlap."""
    b_med, a_med = before.median_s, after.median_s
    if overlap(before, after):
        return f"no faster within the measured spread ({b_med / a_med:.2f}x on the medians)"
    ratio = max(b_med, a_med) / min(b_med, a_med)
    decimals = 2 if ratio < 1.095 else 1  # as the C: 1.03x never prints as "1.0x faster"
    return f"{ratio:.{decimals}f}x {'faster' if a_med < b_med else 'slower'}"


def overlap(a, b):
    """True when two rows' min..max ranges overlap: their difference is within the spread."""
    return a.min_s <= b.max_s and b.min_s <= a.max_s


def apply_format(value, fmt):
    if fmt is None:
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)
    if fmt == "time":
        return format_time(value)
    if fmt == "comma":
        return f"{int(round(float(value))):,}"
    if isinstance(value, Printed):
        value = value.num()
    return fmt % value


class Page:
    def __init__(self, template_path, results_dir):
        self.path = template_path
        self.name = os.path.basename(template_path)
        self.results_dir = results_dir
        with open(template_path, encoding="utf-8") as f:
            self.lines = f.read().split("\n")

    def where(self, lineno):
        return f"{os.path.relpath(self.path)}:{lineno}"

    def render(self):
        env = {"compare": compare, "overlap": overlap, "const": Const, "time": format_time,
               "abs": abs, "min": min, "max": max, "round": round, "float": float, "len": len}
        out = []
        for lineno, line in enumerate(self.lines, 1):
            use = USE_RE.match(line)
            if use:
                env[use.group(1)] = Run(self.results_dir, use.group(2))
                continue
            if line.lstrip().startswith("{%"):
                raise TemplateError(f"{self.where(lineno)}: unknown directive: {line.strip()}")
            out.append(FIELD_RE.sub(lambda m: self.field(m.group(1), env, lineno), line))
        return HEADER.format(name=self.name) + "\n".join(out)

    def field(self, text, env, lineno):
        # The format follows the last '|' when it reads as one; a '|' in a regex stays.
        expr, fmt = text, ""
        head, bar, tail = text.rpartition("|")
        if bar and (tail.strip() in ("time", "comma") or tail.strip().startswith("%")):
            expr, fmt = head, tail
        try:
            value = eval(expr.strip(), {"__builtins__": {}, **env})  # noqa: S307 (our own templates)
            return apply_format(value, fmt.strip() or None)
        except TemplateError as e:
            raise TemplateError(f"{self.where(lineno)}: {{{{{text.strip()}}}}}: {e}") from None
        except Exception as e:  # a typo in a template: name the line
            raise TemplateError(f"{self.where(lineno)}: {{{{{text.strip()}}}}}: "
                                f"{type(e).__name__}: {e}") from None

    def typed_figures(self):
        """Figures with a unit written outside {{ }}: (line, figure) pairs."""
        found = []
        for lineno, line in enumerate(self.lines, 1):
            if USE_RE.match(line):
                continue
            prose = FIELD_RE.sub(" ", line)
            for m in FIGURE_RE.finditer(prose):
                found.append((lineno, m.group(0)))
        return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="render to memory; fail if a page differs or a template types a figure")
    ap.add_argument("--src", default=os.path.join(ROOT, "docs", "src"), help="templates (docs/src)")
    ap.add_argument("--results", default=os.path.join(ROOT, "docs", "results"),
                    help="recorded runs (docs/results)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"), help="rendered pages (docs)")
    ap.add_argument("pages", nargs="*", help="template names (default: all)")
    args = ap.parse_args()

    for folder in (args.src, args.results, args.out):
        if not os.path.isdir(folder):
            print(f"docs_pages: {folder}: no such folder", file=sys.stderr)
            return 2
    names = args.pages or sorted(n for n in os.listdir(args.src) if n.endswith(".md"))
    failures = 0
    for name in names:
        path = os.path.join(args.src, name)
        if not os.path.isfile(path):
            print(f"docs_pages: no template {path}", file=sys.stderr)
            return 2
        page = Page(path, args.results)
        target = os.path.join(args.out, name)
        try:
            text = page.render()
        except TemplateError as e:
            print(f"docs_pages: {e}", file=sys.stderr)
            failures += 1
            continue
        if args.check:
            for lineno, figure in page.typed_figures():
                print(f"docs_pages: {page.where(lineno)}: '{figure}' is typed by hand: take it from "
                      f"docs/results with {{{{ }}}} or declare it with const()", file=sys.stderr)
                failures += 1
            current = open(target, encoding="utf-8").read() if os.path.exists(target) else None
            if current != text:
                print(f"docs_pages: {os.path.relpath(target)} is not what {os.path.relpath(path)} renders "
                      f"from {os.path.relpath(args.results)}: run `make docs`", file=sys.stderr)
                failures += 1
        else:
            tmp = target + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, target)
            print(f"docs_pages: wrote {os.path.relpath(target)}")
    if args.check and not failures:
        print(f"docs_pages: {len(names)} pages match their templates and docs/results; no figure typed by hand")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
