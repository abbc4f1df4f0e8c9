#!/usr/bin/env python3
"""The lab's GradScaler against PyTorch's own, fed the same found-inf sequence.

PyTorch's GradScaler drives a one-element parameter through scaler.scale(loss)
.backward(), an infinite gradient on the steps of the sequence that overflow,
scaler.step(optimizer) and scaler.update(); its scale and growth tracker after
each update are compared with `test_rn_scaler --trace` (grad_scaler.c) on the
same sequence: 6000 steps with overflows at random and in runs, and a stretch
of 4100 clean steps so that the scale doubles twice.

    python3 docs/grad_scaler_check.py --trace-exe build/tests/lab_resnet/test_rn_scaler

It needs a PyTorch whose GradScaler runs here: on a CUDA device, or on the CPU
from PyTorch 2.3 (torch.amp.GradScaler("cpu")). Without one it says so on
stderr ("skipped: ...") and exits 77, which CTest counts as skipped.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile


def found_inf_sequence(steps=6000, seed=7):
    rng = random.Random(seed)
    seq = [1 if rng.random() < 0.002 else 0 for _ in range(steps)]
    seq[0:3] = [1, 1, 1]                  # overflows in a row
    seq[500:4600] = [0] * 4100            # two doublings
    seq[4600] = 1
    return seq


def pytorch_states(seq):
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed"
    device, scaler = None, None
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        try:
            scaler = torch.amp.GradScaler("cpu")
            device = "cpu"
        except Exception:  # noqa: BLE001 (builds without a CPU scaler)
            scaler = None
    if scaler is None and torch.cuda.is_available():
        scaler = torch.cuda.amp.GradScaler()
        device = "cuda"
    if scaler is None:
        return None, f"PyTorch {torch.__version__} has no GradScaler that runs here (no CUDA device, no CPU scaler)"
    param = torch.zeros(1, device=device, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.0)
    states = []
    try:
        for found in seq:
            opt.zero_grad()
            scaler.scale((param * 1.0).sum()).backward()
            if found:
                param.grad.fill_(float("inf"))
            scaler.step(opt)
            scaler.update()
            states.append((scaler.get_scale(), int(scaler._growth_tracker.item())))
    except RuntimeError as e:  # a build whose scaler kernels are missing for this device
        return None, f"PyTorch {torch.__version__}'s GradScaler does not run on {device}: {str(e).splitlines()[0]}"
    return (states, f"PyTorch {torch.__version__}, GradScaler on {device}"), None


def lab_states(exe, seq):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(str(x) for x in seq) + "\n")
        path = f.name
    try:
        out = subprocess.run([exe, "--trace", path], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    rows = out.strip().splitlines()[1:]
    return [(float(r.split(",")[2]), int(r.split(",")[3])) for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trace-exe", required=True, help="test_rn_scaler, built")
    args = ap.parse_args()
    seq = found_inf_sequence()
    ours = lab_states(args.trace_exe, seq)
    got, why = pytorch_states(seq)
    if got is None:
        print(f"skipped: {why}", file=sys.stderr)
        return 77
    theirs, what = got
    print(f"{what}; {len(seq)} steps, {sum(seq)} with overflow")
    mismatches = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    if len(ours) != len(theirs) or mismatches:
        i = mismatches[0] if mismatches else min(len(ours), len(theirs))
        print(f"FAIL: step {i + 1}: lab {ours[i] if i < len(ours) else None}, "
              f"PyTorch {theirs[i] if i < len(theirs) else None}")
        return 1
    print(f"PASS: scale and growth tracker equal after every step (final scale {ours[-1][0]:g}, "
          f"{min(s for s, _ in ours):g} to {max(s for s, _ in ours):g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
