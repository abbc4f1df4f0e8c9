#!/usr/bin/env python3
"""The whole training step on the GPU against the same step on the CPU.

Runs `lab_resnet check-step` twice on the same records and the same seeded
weights, --device cpu and --device gpu, and compares their CSVs as
docs/check_step_csv.py does (loss, logits, gradient norms and projections,
the whole gradients of fc and the batch norms) against --tol (default 1e-3:
float32 on both, in different summation orders; cuDNN's convolutions are
restricted to FMA math, so no TF32; the gradient norms measured 1.5e-5 on
an H100). Standard library only.

    cpu_vs_gpu_step.py --lab build/lab_resnet/lab_resnet --data DIR --work DIR

Exit codes: 0 agree, 1 disagree, 2 a failed lab_resnet run, 77 no usable GPU.
"""
import argparse
import os
import sys

# The check-step CSV reader and comparison (standard library only).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs"))
import check_step_csv  # noqa: E402
from compare_with_pytorch import run as run_lab  # noqa: E402  (its skip rules too)


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
        if (rc := run_lab(cmd, "lab_resnet check-step")) is not None:
            return rc
        steps[device] = check_step_csv.read(out)
    ok = check_step_csv.report(check_step_csv.compare(steps["gpu"], steps["cpu"]), args.tol, "the GPU", "the CPU")
    print(f"{'PASS' if ok else 'FAIL'} (batch {args.batch})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
