#!/usr/bin/env python3
"""One ResNet-18 training step in lab_resnet and in PyTorch, compared.

Runs `lab_resnet check-step` on the first --batch records of
data_batch_1.bin (no augmentation, 32x32, Normalize only, training mode),
the same step in PyTorch (float64 by default: a reference that is not
float32 itself), and compares what check-step writes (docs/check_step_csv.py
says how each is measured):

    the loss, the logits
    every gradient's norm and its projection on a fixed vector (a sign
    flip, a permutation, one wrong channel change the projection)
    the whole gradients of fc and of every batch norm's weight and bias

against --tol, sized from measurements: on the CPU the worst was 1.9e-6
(float32 against float64; tolerance 1e-4), on the GPU 1.5e-5 on the
gradient norms (H100, cuDNN without TF32, against float32 on the CPU;
tolerance 1e-3). Both leave room for other machines' summation orders,
and are below what the faults of lab_resnet's tests give (0.044 for one
channel of 512 zeroed).

    python3 docs/compare_with_pytorch.py --lab build/lab_resnet/lab_resnet
    python3 docs/compare_with_pytorch.py --lab ... --device gpu
    python3 docs/compare_with_pytorch.py --lab ... --data /path/to/cifar-10-batches-bin

The weights: torchvision's seeded init (--init torch, the default: this
also tests loading a torchvision export), or lab_resnet's own (--init lab:
check-step --save writes them and PyTorch loads them). With --init lab the
PyTorch side can be written once as a golden file and compared with later
where PyTorch is absent:

    ... --init lab --write-golden tests/lab_resnet/golden/check_step.csv.gz
    ... --golden tests/lab_resnet/golden/check_step.csv.gz     (no PyTorch needed)

Exit codes: 0 agree, 1 disagree, 2 bad usage or a failed lab_resnet run,
77 PyTorch or torchvision missing (not with --golden), or --device gpu
without a usable GPU (the CTest test is then skipped).
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_step_csv  # noqa: E402

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
TOL = {"cpu": 1e-4, "gpu": 1e-3}


def run(cmd, what):
    """Runs lab_resnet; None, or the exit code to return after its message.
    No usable GPU is a skip (77), or a failure (1) where CS_REQUIRE_GPU=1
    (tools/gpu_verify.sh on a GPU machine: a probe's error is not "no GPU")."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode == 3 and "--device gpu:" in r.stderr:
        # lab_resnet's one line for "no usable GPU here" (cs_case.c)
        if os.environ.get("CS_REQUIRE_GPU") == "1":
            print(f"CS_REQUIRE_GPU=1 and the test would be skipped: {r.stderr.strip()}", file=sys.stderr)
            return 1
        print(f"skipped: {r.stderr.strip()}", file=sys.stderr)
        return 77
    if r.returncode != 0:
        print(f"{what} failed ({r.returncode}): {' '.join(cmd)}: {r.stderr.strip()}", file=sys.stderr)
        return 2
    return None


def torch_step(model, data, batch, dtype, autocast=None, accum=1):
    """PyTorch's step on the same records, the same way, as check-step's rows.
    autocast: None, or (device, torch dtype): the step under torch.autocast
    on that device, fp16's loss scaled by 2^16 and the gradients unscaled
    (GradScaler's first step, as check-step --precision fp16 does).
    accum: gradient accumulation, as the lab's loop does it: `accum`
    micro-batches of `batch`, each (loss / accum).backward() into the same
    .grad; the loss is the mean of theirs, the logits every image's."""
    import contextlib
    import torch
    total = batch * accum
    with open(os.path.join(data, "data_batch_1.bin"), "rb") as f:
        raw = f.read(total * 3073)
    device = autocast[0] if autocast else "cpu"
    rec = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(total, 3073)
    y = rec[:, 0].long().to(device)
    x = rec[:, 1:].to(dtype).div(255.0).view(total, 3, 32, 32)
    x = (x - torch.tensor(MEAN, dtype=dtype).view(1, 3, 1, 1)) / torch.tensor(STD, dtype=dtype).view(1, 3, 1, 1)
    x = x.to(device)
    model = model.to(dtype).to(device)
    model.train()
    # fp16: GradScaler's scale, halved until no gradient overflows (the same
    # step again, as check-step --precision fp16 does; no optimizer step).
    scale = 65536.0 if autocast and autocast[1] == torch.float16 else 1.0
    while True:
        model.zero_grad(set_to_none=True)
        parts, losses = [], []
        for j in range(accum):
            xj, yj = x[j * batch:(j + 1) * batch], y[j * batch:(j + 1) * batch]
            cast = torch.autocast(device_type=device, dtype=autocast[1]) if autocast else contextlib.nullcontext()
            with cast:
                out = model(xj)
                loss_j = torch.nn.functional.cross_entropy(out, yj)
            (loss_j * scale / accum).backward()
            parts.append(out.detach())
            losses.append(loss_j.item())
        logits = torch.cat(parts)
        loss_value = sum(losses) / accum
        finite = all(torch.isfinite(prm.grad).all() for prm in model.parameters())
        if scale == 1.0 or finite or scale < 1.0:
            break
        scale /= 2
    if scale != 1.0:
        for prm in model.parameters():
            prm.grad.mul_(1.0 / scale)
    logits = logits.float().cpu()
    step = {"loss": loss_value, "logit": {}, "grad_norm": {}, "grad_proj": {}, "grad": {}}
    for i in range(total):
        for k in range(logits.shape[1]):
            step["logit"][f"{i}:{k}"] = logits[i, k].item()
    for name, prm in model.named_parameters():
        g = prm.grad.detach().cpu().to(torch.float64).reshape(-1)
        # check_step_csv.proj_weights, computed in torch (a Python list of 11M would take seconds)
        i = torch.arange(1, g.numel() + 1, dtype=torch.int64)
        r = (i * 2654435761 % 4294967296).to(torch.float64) / 4294967296.0 - 0.5
        step["grad_norm"][name] = g.norm().item()
        step["grad_proj"][name] = torch.dot(g, r).item()
        if name == "fc.weight" or prm.dim() == 1:
            step["grad"][name] = dict(enumerate(g.tolist()))
    return step


def widen_for_conditioning(tol, step32, ref):
    """PyTorch's own float32 step against its float64 one measures how well
    this input is conditioned: a ReLU input or a max-pool window within
    float32's rounding of a tie sends a gradient one way in float32 and the
    other in float64 (seed 0's torchvision init on the generated data, batch
    8: 2% in PyTorch itself; seeds 1 and 42: 3e-5). No float32 step can be
    judged finer than that on this input: when PyTorch's own error is over
    the tolerance, the tolerance becomes 4 times it, and the run says so
    (another --seed or a larger --batch gives a sharper check)."""
    own = max(v[0] for key, v in check_step_csv.compare(step32, ref).items() if key != "missing")
    if own <= tol:
        print(f"PyTorch's own float32 error on this input: {own:.2e} (within the tolerance)")
        return tol
    print(f"PyTorch's own float32 error on this input: {own:.2e}, over the tolerance {tol:g}: ReLU inputs or "
          f"max-pool windows near a tie make this input ill-conditioned, so the check is only as fine as "
          f"{4 * own:.2e} here (another --seed or a larger --batch gives a sharper one)")
    return 4 * own


def autocast_tolerance(model, data, batch, precision, ref, accum=1):
    """PyTorch's own autocast step against its float64 one: low precision
    moves the step by this much whoever computes it, so the lab's is judged
    against 4 times it. bf16 runs on the CPU (torch.autocast("cpu")); fp16
    needs a CUDA device (PyTorch's CPU autocast is bf16 only): 77 without."""
    import torch
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    device = "cpu" if precision == "bf16" else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        print("skipped: PyTorch's fp16 autocast needs a CUDA device (its CPU autocast is bf16 only)", file=sys.stderr)
        return 77
    own_step = torch_step(model, data, batch, torch.float32, autocast=(device, dtype), accum=accum)
    own = {key: v[0] for key, v in check_step_csv.compare(own_step, ref).items() if key != "missing"}
    # A single figure (the loss) can land closer to float64 than the
    # precision resolves, by luck: on an H200 (2026-12-04) PyTorch's fp16
    # loss was 4.7e-5 off, a tenth of fp16's unit roundoff, while the
    # lab's logits were closer than PyTorch's. No measure is asked to be
    # finer than the precision's unit roundoff (fp16 2^-11, bf16 2^-8).
    unit = 2.0 ** -11 if precision == "fp16" else 2.0 ** -8
    print(f"PyTorch's own {precision} autocast step ({device}) against its float64 one: " +
          ", ".join(f"{key} {v:.2e}" for key, v in own.items()) +
          f"; each measure's tolerance is 4 times its own, or 4 times {precision}'s unit roundoff "
          f"({unit:.2e}) where that is larger")
    return {key: 4 * max(v, unit) for key, v in own.items()}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab", required=True, help="the lab_resnet executable")
    p.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--data", help="CIFAR-10 binary folder (default: generated by lab_resnet --generate)")
    p.add_argument("--seed", type=int, default=0, help="the weights' seed (and the generated data's)")
    p.add_argument("--init", choices=["torch", "lab"], default="torch", help="whose seeded init the weights are")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="PyTorch's precision")
    p.add_argument("--golden", help="compare with this file instead of running PyTorch (implies --init lab)")
    p.add_argument("--write-golden", help="write PyTorch's step to this file (.gz: compressed)")
    p.add_argument("--tol", type=float, default=None, help="default: 1e-4 on the CPU, 1e-3 on the GPU")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], default="fp32",
                   help="check-step's numerics; fp16/bf16 are judged, measure by measure, against 4 times "
                        "PyTorch's own autocast error")
    p.add_argument("--arch", choices=["resnet18", "resnet50"], default="resnet18",
                   help="the model (torchvision's definition, 10 classes)")
    p.add_argument("--accum-steps", type=int, default=1,
                   help="gradient accumulation: that many micro-batches of --batch, their gradients added")
    p.add_argument("--work", help="folder for the files (default: a temporary one)")
    args = p.parse_args()
    if args.golden:
        args.init = "lab"
    if args.write_golden and args.init != "lab":
        p.error("--write-golden needs --init lab (a golden file is used where PyTorch cannot init)")
    if args.precision != "fp32" and (args.golden or args.write_golden or args.dtype != "float64"):
        p.error("--precision fp16/bf16 compares with PyTorch's float64 step and its own autocast one, run here")
    return args


def main():
    args = parse_args()
    if not args.golden:
        # Found now, imported when needed (1 s): with --init lab on a machine
        # without a GPU, lab_resnet's skip comes first.
        import importlib.util
        missing = [m for m in ("torch", "torchvision") if importlib.util.find_spec(m) is None]
        if missing:
            print(f"skipped: PyTorch or torchvision is not installed (no {', '.join(missing)})", file=sys.stderr)
            return 77
    import export_torchvision_weights as export

    tol = args.tol if args.tol is not None else TOL[args.device]
    work = args.work or tempfile.mkdtemp(prefix="lab_resnet_compare_")
    os.makedirs(work, exist_ok=True)
    data = args.data
    if not data:
        data = os.path.join(work, "data")
        cmd = [args.lab, "--generate", data, "--samples", "200", "--seed", str(args.seed)]
        if (rc := run(cmd, "lab_resnet --generate")) is not None:
            return rc

    # The weights, and lab_resnet's step from them.
    weights = os.path.join(work, "weights.safetensors")
    out_csv = os.path.join(work, "check_step.csv")
    cmd = [args.lab, "check-step", "--data", data, "--batch", str(args.batch), "--out", out_csv,
           "--device", args.device, "--seed", str(args.seed), "--precision", args.precision,
           "--accum-steps", str(args.accum_steps), "--arch", args.arch]
    model = None
    if args.init == "torch":
        import torch
        import torchvision
        torch.manual_seed(args.seed)
        model = getattr(torchvision.models, args.arch)(num_classes=10)
        export.save_safetensors(model.state_dict(), weights)
        cmd += ["--weights", weights]
    else:
        cmd += ["--save", weights]  # the weights check-step starts from
    if (rc := run(cmd, "lab_resnet check-step")) is not None:
        return rc
    lab = check_step_csv.read(out_csv)

    # The reference: the golden file, or PyTorch's step.
    if args.golden:
        ref, ref_name = check_step_csv.read(args.golden), f"the golden file {args.golden}"
    else:
        import torch
        import torchvision
        if model is None:
            model = getattr(torchvision.models, args.arch)(num_classes=10)
            model.load_state_dict(export.load_safetensors(weights))
        model32 = copy.deepcopy(model)
        ref = torch_step(model, data, args.batch, getattr(torch, args.dtype), accum=args.accum_steps)
        ref_name = f"PyTorch ({args.dtype})"
        if args.write_golden:
            check_step_csv.write(args.write_golden, ref)
            print(f"wrote {args.write_golden}")
        if args.precision != "fp32":
            got = autocast_tolerance(model32, data, args.batch, args.precision, ref, args.accum_steps)
            if isinstance(got, int):
                return got
            tol = got
        elif args.dtype == "float64":
            own32 = torch_step(model32, data, args.batch, torch.float32, accum=args.accum_steps)
            tol = widen_for_conditioning(tol, own32, ref)
    ok = check_step_csv.report(check_step_csv.compare(lab, ref), tol, f"lab_resnet ({args.device})", ref_name)
    accum = f", {args.accum_steps} micro-batches accumulated" if args.accum_steps > 1 else ""
    arch = f", {args.arch}" if args.arch != "resnet18" else ""
    print(f"{'PASS' if ok else 'FAIL'} (batch {args.batch}{accum}{arch}, seed {args.seed}, {args.init} init; "
          f"files in {work})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
