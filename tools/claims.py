#!/usr/bin/env python3
"""docs/claims.md: the course's claims against this project's measurements.

The course material promises speedups and memory savings (the claims below:
the ranges are the course's words, the only figures typed here). Each is set
against the figure the matching case or lab part measured, read from the
results files `make bench` records in docs/results/, with the machine they
ran on, a verdict (within, above, below, or not measured) and, where they
differ, one sentence on why, itself made of measured figures. Nothing
measured is typed by hand: tests/claims checks that the figures follow the
results files, and --check that docs/claims.md is what the results give.

    python3 tools/claims.py                  write docs/claims.md and its chart
    python3 tools/claims.py --check          fail if docs/claims.md is stale
    python3 tools/claims.py --results DIR --out FILE   (the tests' fixture)
"""
import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Results:
    """The recorded runs under one folder, read on demand. `runs` renames
    them (a GPU folder's lab_resnet_amp_224 read as lab_resnet_amp)."""

    def __init__(self, folder, runs=None):
        self.folder = folder
        self.runs = runs or {}

    def rows(self, run, name="results.csv"):
        path = os.path.join(self.folder, self.runs.get(run, run), name)
        if not os.path.exists(path):
            return None
        with open(path, newline="") as f:
            return list(csv.DictReader(f))

    def row(self, run, key, value, name="results.csv"):
        for r in self.rows(run, name) or []:
            if r.get(key) == value:
                return r
        return None

    def config(self, run):
        path = os.path.join(self.folder, self.runs.get(run, run), "results.json")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return json.load(f).get("config", {})

    def system(self):
        for run in ("lab_resnet", "case01_training_loop", "case02_data_pipeline", "case03_gpu_migration",
                    *self.runs.values()):
            path = os.path.join(self.folder, run, "results.json")
            if os.path.exists(path):
                with open(path) as f:
                    return json.load(f).get("system", {})
        return {}


def num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def best_variant(res, run, device=None):
    """The fastest variant that ran and passed, and the reference (first) row."""
    rows = res.rows(run)
    if not rows:
        return None, None
    ref = rows[0]
    ok = [r for r in rows if num(r.get("median_s")) and r.get("check") in ("PASS", "REF")
          and (device is None or r.get("device") == device)]
    if not ok:
        return None, ref
    return min(ok, key=lambda r: float(r["median_s"])), ref


def faster(res, run, base_name, names):
    """The fastest of `names` that ran and passed against `base_name`, from
    the run's results.csv: (ratio of medians, best row, base row, tie), tie
    when their min..max ranges overlap (no measurable difference)."""
    base = res.row(run, "variant", base_name)
    rows = [res.row(run, "variant", n) for n in names]
    rows = [r for r in rows if r and num(r.get("median_s")) and r.get("check") in ("PASS", "REF")]
    if not base or not num(base.get("median_s")) or not rows:
        return None
    best = min(rows, key=lambda r: float(r["median_s"]))
    tie = float(base["min_s"]) <= float(best["max_s"]) and float(best["min_s"]) <= float(base["max_s"])
    return float(base["median_s"]) / float(best["median_s"]), best, base, tie


# ---- each claim's measurement: (value, what it is, why-facts[, tie]) or None --

def m_case01(res):
    best, ref = best_variant(res, "case01_training_loop")
    if not best or best is ref:
        return None
    v = float(ref["median_s"]) / float(best["median_s"])
    return v, f"{best['variant']} against {ref['variant']}", (
        f"{ref['variant']} takes {fmt_time(num(ref['median_s']))} per step, {best['variant']} "
        f"{fmt_time(num(best['median_s']))} on {best['device'].upper()}")


def m_case02(res):
    best, ref = best_variant(res, "case02_data_pipeline")
    if not best or best is ref:
        return None
    v = float(ref["median_s"]) / float(best["median_s"])
    return v, f"{best['variant']} against {ref['variant']}", (
        f"{ref['variant']} already runs {num(ref['throughput']):,.0f} records/s and {best['variant']} "
        f"{num(best['throughput']):,.0f}: the course's 2,000 and 10,000 records/s are a slower "
        f"starting point")


def m_case03(res):
    best, ref = best_variant(res, "case03_gpu_migration", device="gpu")
    if not best:
        return None
    cpu, _ = best_variant(res, "case03_gpu_migration", device="cpu")
    if not cpu:
        return None
    v = float(cpu["median_s"]) / float(best["median_s"])
    return v, f"{best['variant']} against {cpu['variant']}", (
        f"the best GPU rung ({best['variant']}) against the best CPU rung ({cpu['variant']})")


def m_dataloader(res):
    f = faster(res, "lab_resnet_dataloader", "baseline", ("optimal_workers", "pin_memory", "persistent"))
    base = res.row("lab_resnet_dataloader", "configuration", "baseline", "dataloader.csv")
    if not f or not base:
        return None
    v, best, _, tie = f
    return v, f"{best['variant']} against baseline (epoch time)", (
        f"the baseline waited for data {100 * float(base['data_wait_share']):.1f}% of a batch: "
        f"that share is all workers can hide"), tie


def amp_best(res):
    base = res.row("lab_resnet_amp", "configuration", "fp32", "amp.csv")
    rows = [res.row("lab_resnet_amp", "configuration", n, "amp.csv") for n in ("fp16", "fp16_device_skip", "bf16")]
    rows = [r for r in rows if r and num(r.get("run_s"))]
    if not base or not rows:
        return None, None
    return base, min(rows, key=lambda r: float(r["run_s"]))


def amp_why(res, row):
    """What the row's convolutions multiplied in, on a CPU (amp.csv's
    conv_products: bf16 on the lab's AVX-512 BF16 GEMM, else fp32)."""
    if res.system().get("gpu_present") or not row:
        return ""
    if row.get("conv_products") == "bf16":
        fp32 = res.row("lab_resnet_amp", "configuration", "fp32", "amp.csv")
        gain = (f" ({fmt_time(num(fp32['conv_s_per_step']))} of convolutions per step in fp32, "
                f"{fmt_time(num(row['conv_s_per_step']))} in bf16)") if fp32 else ""
        return (f"no GPU here: the convolutions multiply in bf16 on the CPU's AVX-512 BF16 through the lab's "
                f"own bf16 GEMM{gain}; ")
    return ("no GPU here: the convolutions multiply in an fp32 SGEMM on the CPU, so AMP only stores "
            "16-bit values; ")


def slow_blas_caveat(res):
    """When OpenBLAS ran a core below the CPU (cs_sysinfo's BLAS line then
    names the one that would match it), fp32's side of a CPU ratio ran on
    slower kernels than the CPU offers: said even when the claim is met."""
    if res.system().get("gpu_present"):
        return ""
    blas = str(res.system().get("blas", ""))
    core = re.search(r"core (\S+?),.*OPENBLAS_CORETYPE=(\S+) would match it", blas)
    # the suite's blocked SGEMM measured faster and ran fp32's products instead
    if not core or "fp32 GEMMs: the suite's blocked SGEMM" in blas:
        return ""
    return (f"fp32 ran OpenBLAS's {core.group(1)} kernels, OpenBLAS's own pick for this CPU and below it; "
            f"lab_resnet_amp_coretype.log has both rows with OPENBLAS_CORETYPE={core.group(2)}")


def m_amp_speed(res):
    f = faster(res, "lab_resnet_amp", "fp32", ("fp16", "fp16_device_skip", "bf16"))
    if not f:
        return None
    v, best, _, tie = f
    row = res.row("lab_resnet_amp", "configuration", best["variant"], "amp.csv")
    cost = f"the conversions cost {fmt_time(num(row['storage_s_per_step']))} per step" if row else ""
    fp32 = res.row("lab_resnet_amp", "configuration", "fp32", "amp.csv")
    if res.system().get("gpu_present") and row and fp32:
        cost = (f"the convolutions took {fmt_time(num(row['conv_s_per_step']))} per step against fp32's "
                f"{fmt_time(num(fp32['conv_s_per_step']))}" +
                ("; the activations stayed 16-bit between layers (no packing pass)" if sixteen_between(row)
                 else f", the 16-bit storage {fmt_time(num(row['storage_s_per_step']))}"))
    caveat = slow_blas_caveat(res)
    return v, f"{best['variant']} against fp32", amp_why(res, row) + cost + ("; " + caveat if caveat else ""), tie, caveat


def sixteen_between(row):
    """Whether a 16-bit row kept its activations 16-bit between layers (the
    GPU's act16: no 16-bit storage pass), from its amp.csv row."""
    return num(row.get("storage_s_per_step")) == 0


def m_amp_memory(res):
    base, best = amp_best(res)
    if not best:
        return None
    v = 100 * float(best["activation_saving"])
    whole = 100 * (1 - float(best["peak_total"]) / float(base["peak_total"]))
    buffers = ("the saved activations and the working buffers halve (16-bit between layers)"
               if sixteen_between(best) else
               "the saved activations halve, the float working buffers the layers compute in do not")
    return v, f"{best['configuration']}'s peak activations against fp32's", (
        f"{buffers}; weights, gradients and Adam's state stay fp32 (the whole model's peak {abs(whole):.0f}% "
        f"{'lower' if whole >= 0 else 'higher'})")


def ckpt_rows(res):
    a = res.row("lab_resnet_memory", "configuration", "checkpoint_none", "memory.csv")
    b = res.row("lab_resnet_memory", "configuration", "checkpoint_stages", "memory.csv")
    return (a, b) if a and b else (None, None)


def m_ckpt_memory(res):
    a, b = ckpt_rows(res)
    if not a:
        return None
    v = 100 * (1 - float(b["peak_activations"]) / float(a["peak_activations"]))
    return v, "checkpoint_stages' peak activations against checkpoint_none's", (
        "five segments (the stem and layer1-4): only their inputs are kept")


def m_ckpt_time(res):
    a, b = ckpt_rows(res)
    if not a:
        return None
    v = 100 * (1 - float(b["images_per_s"]) / float(a["images_per_s"]))
    return v, "checkpoint_stages' throughput below checkpoint_none's", (
        f"the recomputed forward costs {fmt_time(num(b['recompute_s_per_batch']))} per batch")


def m_compile(res):
    f = faster(res, "lab_resnet_compile", "eager", ("fused", "graph"))
    base = res.row("lab_resnet_compile", "configuration", "eager", "compile.csv")
    if not f or not base:
        return None
    v, best, _, tie = f
    row = res.row("lab_resnet_compile", "configuration", best["variant"], "compile.csv")
    kept = "" if res.system().get("gpu_present") else ", the backward's patch matrices kept from the forward"
    return v, f"{best['variant']} against eager", (
        f"the operations between the convolutions took {fmt_time(num(base['between_s_per_step']))} of "
        f"eager's step and {fmt_time(num(row['between_s_per_step']))} fused; the convolutions "
        f"{fmt_time(num(base['conv_s_per_step']))} and {fmt_time(num(row['conv_s_per_step']))} (their "
        f"products untouched{kept})"), tie


def m_lab(res):
    lab_rows = ("graph", "fused", "amp", "dataloader")  # the lab's table, last first
    ran = [n for n in lab_rows if (r := res.row("lab_resnet_compare", "variant", n)) and num(r.get("median_s"))]
    if not ran:
        return None
    f = faster(res, "lab_resnet_compare", "baseline", ran[:1])
    if not f:
        return None
    v, best, _, tie = f
    return v, f"{best['variant']} (every technique of the lab's table) against the baseline", (
        "the convolutions, which no technique of the lab changes on this machine, bound the whole"), tie


def m_sync(res):
    f = faster(res, "lab_resnet_amp", "fp16", ("fp16_device_skip",))
    if not f:
        return None
    v, best, base, tie = f
    gpu = res.system().get("gpu_present")
    steps = num(res.config("lab_resnet_amp").get("batches_per_run"))
    saved = (num(base["median_s"]) - num(best["median_s"])) / steps if steps else None
    why = (f"the host's read of the flag (a copy to the host and a wait, every step) cost {fmt_time(saved)} of a "
           f"{fmt_time(num(base['median_s']) / steps)} step" if gpu and saved and saved > 0 else
           f"the device-side skip's median step was {fmt_time(-saved)} slower than the host-read one's "
           f"({fmt_time(num(base['median_s']) / steps)}): the host's read of the flag cost less than the runs' spread"
           if gpu and saved else
           "" if gpu else "on a CPU the host and the step are the same thread: there is no device to wait for")
    return v, "fp16_device_skip (the skip decided on the device) against fp16 (the host reads the flag)", why, tie


# The course's claims: what, its source here, the range claimed, the unit
# ("x": a speedup; "%": a saving or a slowdown), the measurement.
CLAIMS = [
    ("The training loop: 3 hours to 18 minutes", "case01_training_loop", 10, 10, "x", m_case01),
    ("The ETL pipeline: 2,000 to 10,000 records/s", "case02_data_pipeline", 5, 5, "x", m_case02),
    ("The GPU migration", "case03_gpu_migration", 20, 20, "x", m_case03),
    ("Data loading (Part 2)", "lab_resnet dataloader", 1.3, 1.8, "x", m_dataloader),
    ("Mixed precision, speed (Part 3)", "lab_resnet amp", 1.5, 2.5, "x", m_amp_speed),
    ("Mixed precision, memory saved (Part 3)", "lab_resnet amp", 30, 40, "%", m_amp_memory),
    ("Checkpointing, memory saved (Part 4)", "lab_resnet memory", 30, 50, "%", m_ckpt_memory),
    ("Checkpointing, slower by (Part 4)", "lab_resnet memory", 10, 20, "%", m_ckpt_time),
    ("torch.compile (Part 5)", "lab_resnet compile", 1.1, 1.4, "x", m_compile),
    ("The whole lab (Part 6)", "lab_resnet compare", 2, 3, "x", m_lab),
    ("Realistic range: data loading fixes", "lab_resnet dataloader", 1.1, 1.3, "x", m_dataloader),
    ("Realistic range: removing sync points", "lab_resnet amp (fp16_device_skip)", 1.05, 1.15, "x", m_sync),
    ("Realistic range: mixed precision", "lab_resnet amp", 1.4, 1.8, "x", m_amp_speed),
    ("Realistic range: compilation", "lab_resnet compile", 1.3, 2.0, "x", m_compile),
]


def fmt_time(s):
    if s is None:
        return "?"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} us"


def fmt_value(v, unit):
    return f"{v:.2f}x" if unit == "x" else f"{v:.0f}%"


def fmt_range(lo, hi, unit):
    if lo == hi:
        return f"{lo:g}x" if unit == "x" else f"{lo:g}%"
    return f"{lo:g}-{hi:g}x" if unit == "x" else f"{lo:g}-{hi:g}%"


def verdict(v, lo, hi, unit):
    # A single figure claimed (10x) is met within 10% of it.
    if lo == hi:
        lo, hi = lo * 0.9, hi * 1.1
    if v < lo:
        return "below"
    if v > hi:
        return "above"
    return "within"


def machine_line(system):
    cpu = system.get("cpu_model", "unknown CPU")
    cores = system.get("cores", "?")
    gpu = system.get("gpu_name") if system.get("gpu_present") else "no GPU"
    return f"{cpu}, {cores} cores, {system.get('isa', '')}; {gpu}"


def evaluate(res):
    out = []
    for what, source, lo, hi, unit, measure in CLAIMS:
        m = measure(res)
        if m is None:
            out.append(dict(what=what, source=source, lo=lo, hi=hi, unit=unit, value=None,
                            measured="not measured here", verdict="not measured",
                            why=not_measured_why(res, source)))
            continue
        value, of, facts = m[:3]
        tie = len(m) > 3 and m[3]
        # No measurable difference: the speedup is 1 as far as the spreads
        # tell, whatever the medians' ratio.
        v = verdict(1.0 if tie else value, lo, hi, unit)
        caveat = m[4] if len(m) > 4 else ""  # said whatever the verdict
        why = caveat if v == "within" else facts
        shown = f"{fmt_value(value, unit)} on the medians, within the measured spread" if tie else fmt_value(value, unit)
        out.append(dict(what=what, source=source, lo=lo, hi=hi, unit=unit, value=value,
                        measured=f"{shown} ({of})", verdict=v, why=why))
    return out


# The lab's parts as tools/gpu_verify.sh records them on a GPU (224 x 224,
# docs/results/gpu_<name>/): read as the CPU runs are, for a second table.
GPU_RUNS = {"lab_resnet_amp": "lab_resnet_amp_224", "lab_resnet_memory": "lab_resnet_memory_224",
            "lab_resnet_compile": "lab_resnet_compile_224"}


def latest_runs(sub):
    """Each of GPU_RUNS where a GPU folder last recorded it: its newest
    sessionN/ subfolder holding the run (later leases run the code of their
    day), else the folder itself."""
    sessions = sorted((d for d in os.listdir(sub) if re.fullmatch(r"session[0-9]+", d)),
                      key=lambda d: int(d[len("session"):]), reverse=True)
    out = {}
    for key, run in GPU_RUNS.items():
        out[key] = next((f"{d}/{run}" for d in sessions if os.path.exists(os.path.join(sub, d, run, "results.csv"))),
                        run)
    return out


def gpu_results(folder):
    """A Results per docs/results/gpu_* folder that holds any of GPU_RUNS."""
    out = []
    for name in sorted(os.listdir(folder)):
        sub = os.path.join(folder, name)
        if not (name.startswith("gpu_") and os.path.isdir(sub)):
            continue
        runs = latest_runs(sub)
        if any(os.path.exists(os.path.join(sub, run, "results.csv")) for run in runs.values()):
            out.append((name, Results(sub, runs)))
    return out


def gpu_rows(res):
    """The claims a GPU folder measures: the ones its runs hold."""
    sources = {run for run in GPU_RUNS}
    rows = [r for r, claim in zip(evaluate(res), CLAIMS) if claim[5] not in (m_dataloader, m_lab)
            and any(run.replace("_", " ").startswith(r["source"].split(" (")[0].replace("_", " "))
                    for run in sources)]
    return [r for r in rows if r["value"] is not None]


def not_measured_why(res, source):
    if "gpu" in source and not res.system().get("gpu_present"):
        return "its GPU rungs need a GPU: this machine has none"
    return "its results are not in the recorded runs (make bench writes them)"


def render_gpu(name, res, results_rel):
    rows = gpu_rows(res)
    if not rows:
        return []
    lines = [
        f"## On a GPU ({res.system().get('gpu_name', name)})",
        "",
        f"The lab's parts that `tools/gpu_verify.sh` ran at 224 x 224 on a GPU, from `{results_rel}/{name}/` "
        f"({', '.join(f'`{res.runs[k]}`' for k in GPU_RUNS)}: each where the folder last recorded it; "
        "its README says when and how).",
        "",
        f"**Machine:** {machine_line(res.system())}.",
        "",
        "| Claim | Claimed | Measured on the GPU | Verdict | Why it differs |",
        "|---|---:|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['what']} | {fmt_range(r['lo'], r['hi'], r['unit'])} | {r['measured']} | "
                     f"{r['verdict']} | {r['why'] or '-'} |")
    # The same part run again in another lease (<run>_run2): its figures
    # beside, so that one lease's luck is not the verdict.
    again = {k: v + "_run2" for k, v in res.runs.items() if os.path.isdir(os.path.join(res.folder, v + "_run2"))}
    if again:
        other = Results(res.folder, {**res.runs, **again})
        rows2 = {r["what"]: r for r in gpu_rows(other)}
        redo = [(r, rows2[r["what"]]) for r in rows if r["what"] in rows2 and rows2[r["what"]]["value"] != r["value"]]
        if redo:
            lines += ["", f"Run again in another lease ({', '.join(f'`{v}`' for v in again.values())}): " +
                      "; ".join(f"{r['what']}: {r2['measured']}, {r2['verdict']}" for r, r2 in redo) + "."]
    return lines + [""]


def render(rows, system, results_rel, gpus=()):
    lines = [
        "<!-- Generated by tools/claims.py from the runs in docs/results/ (make bench): do not edit. -->",
        "# The course's claims against our measurements",
        "",
        "The course material promises the speedups and savings below. Each is set against what this "
        "project measured on the machine `make bench` last ran on, from the results files in "
        f"`{results_rel}/`. The ranges are the course's; every measured figure comes from a results file.",
        "",
        f"**Machine:** {machine_line(system)}.",
        "",
        "| Claim | Source | Claimed | Measured here | Verdict | Why it differs |",
        "|---|---|---:|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['what']} | `{r['source']}` | {fmt_range(r['lo'], r['hi'], r['unit'])} | "
                     f"{r['measured']} | {r['verdict']} | {r['why'] or '-'} |")
    counts = {k: sum(1 for r in rows if r["verdict"] == k) for k in ("within", "above", "below", "not measured")}
    lines += [
        "",
        f"Of {len(rows)} claims: {counts['within']} within the course's range, {counts['above']} above it, "
        f"{counts['below']} below it, {counts['not measured']} not measured on this machine.",
        "",
        "![claimed range against measured point](results/claims/claims.png)",
        "",
        "A single figure claimed (10x) counts as met within 10% of it. Speedups are medians of repeated "
        "runs; the cases' pages give their spreads.",
        "",
    ]
    for name, res in gpus:
        lines += render_gpu(name, res, results_rel)
    return "\n".join(lines)


def write_chart(rows, folder):
    """claims.dat and claims.gp (and claims.png when gnuplot is there)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "claims.dat.tmp"), "w") as f:
        f.write("# row (from the bottom), label, claimed low, claimed high, measured (NaN: not measured), unit\n")
        for i, r in enumerate(rows):
            v = r["value"] if r["value"] is not None else float("nan")
            f.write(f'{len(rows) - 1 - i} "{r["what"]}" {r["lo"]:g} {r["hi"]:g} {v:.6g} "{r["unit"]}"\n')
    os.replace(os.path.join(folder, "claims.dat.tmp"), os.path.join(folder, "claims.dat"))
    n = len(rows)
    gp = f"""# claims.gp: the course's claimed ranges (bars) against the measured points.
set terminal pngcairo size 1200,{120 + 38 * n} font ",10"
set output "claims.png"
set ytics scale 0
set yrange [-0.7:{n - 0.3}]
set grid xtics
set multiplot layout 1,2 title "The course's claims (grey: the range claimed) against this machine's measurements (red)"
set lmargin 44
set rmargin 2
unset key
set xlabel "speedup (x)"
set logscale x
set xrange [0.3:200]
plot "claims.dat" using (strcol(6) eq "x" ? $3 : 1/0):1:($3 == $4 ? 0.9 * $3 : $3):($3 == $4 ? 1.1 * $4 : $4):($1-0.3):($1+0.3):ytic(2) \\
       with boxxyerror fc rgb "#bbbbbb" fs solid title "claimed", \\
     "" using (strcol(6) eq "x" ? $5 : 1/0):1 with points pt 7 ps 1.4 lc rgb "#cc3311" title "measured"
unset logscale x
set xrange [0:60]
set format y ""
set lmargin 2
set key top right
set xlabel "saving or slowdown (%)"
plot "claims.dat" using (strcol(6) eq "%" ? $3 : 1/0):1:3:4:($1-0.3):($1+0.3) with boxxyerror fc rgb "#bbbbbb" fs solid \\
       title "claimed", \\
     "" using (strcol(6) eq "%" ? $5 : 1/0):1 with points pt 7 ps 1.4 lc rgb "#cc3311" title "measured"
unset multiplot
"""
    with open(os.path.join(folder, "claims.gp"), "w") as f:
        f.write(gp)
    try:
        subprocess.run(["gnuplot", "claims.gp"], cwd=folder, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"claims.py: the chart was not drawn ({e}); claims.gp and claims.dat are in {folder}",
              file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default=os.path.join(ROOT, "docs", "results"))
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "claims.md"))
    p.add_argument("--check", action="store_true", help="fail if --out is not what the results give")
    p.add_argument("--no-chart", action="store_true")
    a = p.parse_args()
    if not os.path.isdir(a.results):
        print(f"claims.py: --results {a.results}: no such folder", file=sys.stderr)
        return 2
    res = Results(a.results)
    rows = evaluate(res)
    rel = os.path.relpath(a.results, os.path.dirname(os.path.abspath(a.out)))
    text = render(rows, res.system(), rel, gpu_results(a.results))
    if a.check:
        try:
            with open(a.out) as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print(f"claims.py: {a.out} is not what {a.results} gives: run python3 tools/claims.py", file=sys.stderr)
            return 1
        return 0
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.out)
    if not a.no_chart:
        write_chart(rows, os.path.join(a.results, "claims"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
