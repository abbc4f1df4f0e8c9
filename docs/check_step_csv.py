"""check-step CSVs: read, write and compare (standard library only).

`lab_resnet check-step` writes one training step as rows "kind,name,value"
(lab_resnet/check_step.h): loss, logits, and per trainable tensor its
gradient's norm (grad_norm), its projection on a fixed pseudo-random vector
(grad_proj), and for fc and the batch norms every element (grad). Used by
docs/compare_with_pytorch.py (lab_resnet against PyTorch, live or against a
committed golden file) and tests/lab_resnet/cpu_vs_gpu_step.py.

What each comparison measures, each an estimate of a relative error:

    loss        |a - b| / |b|
    logits      ||a - b|| / ||b|| over all of them
    grad_norm   |a - b| / b, per tensor
    grad_proj   |a - b| * sqrt(12) / grad_norm(b), per tensor: the
                projection's weights r_i have rms 1/sqrt(12), so an error e
                in the gradient moves it by about ||e|| / sqrt(12), and this
                is about ||e|| / ||g||. A sign flip gives about 2 * |b| *
                sqrt(12) / ||g|| (of order 1), a permutation or one wrong
                channel of 512 about 1 / sqrt(512) = 0.044.
    grad        ||a - b|| / ||b|| over each tensor written in full

A NaN anywhere, a missing or extra row, is a failure.
"""
import csv
import gzip
import math

PROJ_RMS = 1.0 / math.sqrt(12.0)


def proj_weights(n):
    """r_i = u_i - 0.5, u_i = ((i + 1) * 2654435761 mod 2^32) / 2^32, i < n."""
    return [((i + 1) * 2654435761 % 4294967296) / 4294967296.0 - 0.5 for i in range(n)]


def _open(path, mode):
    return gzip.open(path, mode, newline="") if path.endswith(".gz") else open(path, mode, newline="")


def read(path):
    """{"loss": v, "logit": {name: v}, "grad_norm": {...}, "grad_proj": {...},
    "grad": {tensor: {index: v}}}."""
    step = {"loss": None, "logit": {}, "grad_norm": {}, "grad_proj": {}, "grad": {}}
    with _open(path, "rt") as f:
        for row in csv.DictReader(f):
            kind, name, value = row["kind"], row["name"], float(row["value"])
            if kind == "loss":
                step["loss"] = value
            elif kind == "grad":
                tensor, index = name[:-1].split("[")
                step["grad"].setdefault(tensor, {})[int(index)] = value
            elif kind in step:
                step[kind][name] = value
            else:
                raise ValueError(f"{path}: unknown row kind '{kind}'")
    return step


def write(path, step):
    """Writes a step (read()'s form) as check-step writes it."""
    with _open(path, "wt") as f:
        f.write("kind,name,value\n")
        f.write(f"loss,,{step['loss']:.9g}\n")
        for name, v in step["logit"].items():
            f.write(f"logit,{name},{v:.9g}\n")
        for name in step["grad_norm"]:
            f.write(f"grad_norm,{name},{step['grad_norm'][name]:.9g}\n")
            f.write(f"grad_proj,{name},{step['grad_proj'][name]:.9g}\n")
            for i, v in sorted(step["grad"].get(name, {}).items()):
                f.write(f"grad,{name}[{i}],{v:.9g}\n")


def _rel(a, b):
    """|a - b| / |b|; NaN when either is NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return abs(a - b) / max(abs(b), 1e-30)


def _rel_l2(got, ref):
    """||got - ref|| / ||ref|| over the keys of ref (missing keys: NaN)."""
    num = den = 0.0
    for k, r in ref.items():
        if k not in got:
            return math.nan
        num += (got[k] - r) ** 2
        den += r * r
    return math.sqrt(num / den) if den > 0 else math.sqrt(num)


def _worse(a, b):
    """The worse of two (error, name) pairs; NaN is the worst."""
    if math.isnan(a[0]):
        return a
    if math.isnan(b[0]) or b[0] > a[0]:
        return b
    return a


def compare(got, ref):
    """The errors of got against ref: {measure: (error, worst tensor)}, plus
    "missing": the names one has and the other has not."""
    out = {"loss": (_rel(got["loss"], ref["loss"]), ""), "logits": (_rel_l2(got["logit"], ref["logit"]), "")}
    missing = sorted(set(ref["logit"]) ^ set(got["logit"]))
    for kind in ("grad_norm", "grad_proj", "grad"):
        missing += sorted(set(ref[kind]) ^ set(got[kind]))
    worst = {"grad_norm": (0.0, ""), "grad_proj": (0.0, ""), "grad": (0.0, "")}
    for name, norm in ref["grad_norm"].items():
        if name not in got["grad_norm"] or name not in got["grad_proj"]:
            continue
        worst["grad_norm"] = _worse(worst["grad_norm"], (_rel(got["grad_norm"][name], norm), name))
        e = abs(got["grad_proj"][name] - ref["grad_proj"][name]) / (max(norm, 1e-30) * PROJ_RMS)
        worst["grad_proj"] = _worse(worst["grad_proj"], (e, name))
    for name, values in ref["grad"].items():
        if name in got["grad"]:
            if set(got["grad"][name]) != set(values):
                missing.append(name)
            worst["grad"] = _worse(worst["grad"], (_rel_l2(got["grad"][name], values), name))
    out.update(worst)
    out["missing"] = missing
    return out


def report(errors, tol, got_name, ref_name):
    """Prints one line per measure against tol (a number, or one per measure:
    {measure: tolerance}); True when all pass."""
    labels = {
        "loss": "loss",
        "logits": "logits (relative L2)",
        "grad_norm": "gradient norms",
        "grad_proj": "gradient projections",
        "grad": "fc and batch-norm gradients (relative L2)",
    }
    ok = True
    each = isinstance(tol, dict)
    print(f"{got_name} against {ref_name}, " + ("tolerance per measure:" if each else f"tolerance {tol:g} on each:"))
    for key, label in labels.items():
        err, name = errors[key]
        limit = tol[key] if each else tol
        passed = err <= limit  # False for NaN
        ok &= passed
        where = f" ({name})" if name else ""
        bound = f" (tolerance {limit:.2e})" if each else ""
        print(f"  {label:42s} {err:.2e}{where}{bound}{'' if passed else '  <- over'}")
    if errors["missing"]:
        m = errors["missing"]
        print(f"  rows in one file only: {', '.join(m[:5])}{' ...' if len(m) > 5 else ''}")
        ok = False
    return ok
