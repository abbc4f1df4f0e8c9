#!/usr/bin/env python3
"""The whole training step on the GPU against the same step on the CPU.

Runs `lab_resnet check-step` twice on the same records and the same seeded
weights, --device cpu and --device gpu, and compares their CSVs:

    the loss                          relative difference
    the logits (batch x 10)           relative L2 error
    every parameter's gradient norm   worst relative difference

against --tol (default 1e-3: float32 on both, in different summation
orders; cuDNN's convolutions are restricted to FMA math, so no TF32).
Standard library only.

    cpu_vs_gpu_step.py --lab build/lab_resnet/lab_resnet --data DIR --work DIR

Exit codes: 0 agree, 1 disagree, 2 a failed lab_resnet run, 77 no usable GPU.
"""
import argparse
import math
import os
import subprocess
import sys

# The check-step CSV reader of the PyTorch comparison (standard library only).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs"))
from compare_with_pytorch import read_check_step  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab", required=True)
    p.add_argument("--data", required=True, help="CIFAR-10 binary folder")
    p.add_argument("--work", required=True, help="folder for the two CSVs")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--tol", type=float, default=1e-3)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    steps = {}
    for device in ("gpu", "cpu"):   # the GPU first: without one there is nothing to compare
        out = os.path.join(args.work, f"step_{device}.csv")
        cmd = [args.lab, "check-step", "--device", device, "--data", args.data,
               "--batch", str(args.batch), "--out", out]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 3 and device == "gpu" and "--device gpu:" in r.stderr:
            print(f"skipped: {r.stderr.strip()}", file=sys.stderr)
            return 77
        if r.returncode != 0:
            print(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}", file=sys.stderr)
            return 2
        steps[device] = read_check_step(out)
    cpu, gpu = steps["cpu"], steps["gpu"]

    ok = True
    loss_rel = abs(gpu["loss"] - cpu["loss"]) / max(abs(cpu["loss"]), 1e-12)
    print(f"loss: GPU {gpu['loss']:.7g}, CPU {cpu['loss']:.7g}, relative difference {loss_rel:.2e}")
    ok &= loss_rel <= args.tol
    if set(gpu["logit"]) != set(cpu["logit"]) or not cpu["logit"]:
        print(f"logits: the GPU wrote {len(gpu['logit'])}, the CPU {len(cpu['logit'])}")
        return 1
    num = sum((gpu["logit"][k] - v) ** 2 for k, v in cpu["logit"].items())
    den = sum(v * v for v in cpu["logit"].values())
    logit_rel = math.sqrt(num / den) if den > 0 else math.sqrt(num)
    print(f"logits: {len(cpu['logit'])}, relative L2 error {logit_rel:.2e}")
    ok &= logit_rel <= args.tol
    if set(gpu["grad_norm"]) != set(cpu["grad_norm"]) or not cpu["grad_norm"]:
        print(f"gradient norms: the GPU wrote {len(gpu['grad_norm'])}, the CPU {len(cpu['grad_norm'])}")
        return 1
    worst, worst_name = 0.0, ""
    for name, ref in cpu["grad_norm"].items():
        rel = abs(gpu["grad_norm"][name] - ref) / max(abs(ref), 1e-12)
        if math.isnan(rel) or rel > worst:   # a NaN stays the worst: it never passes
            worst, worst_name = rel, name
    print(f"gradient norms: {len(cpu['grad_norm'])} parameters, worst relative difference "
          f"{worst:.2e} ({worst_name})")
    ok &= worst <= args.tol
    print(f"{'PASS' if ok else 'FAIL'} (tolerance {args.tol:g}, batch {args.batch})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
