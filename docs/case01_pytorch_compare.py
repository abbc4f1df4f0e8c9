#!/usr/bin/env python3
"""case01's peer: the same MLP training step in PyTorch, for comparison.

Trains the network of case01_training_loop (784 -> 1024 -> 1024 -> 10, ReLU,
softmax cross-entropy, plain SGD) with the same batch size on MNIST-shaped
data that is already a float tensor (as cpu_fast and gpu_fast have it), and
prints the training throughput in samples/s: the median of several timed
runs of --steps steps each, after a warm-up run.

    python3 docs/case01_pytorch_compare.py                 # CPU, all cores
    python3 docs/case01_pytorch_compare.py --threads 2
    python3 docs/case01_pytorch_compare.py --device cuda   # eager mode on a GPU

On Debian (`apt-get install python3-torch`) PyTorch's linear layers run on
OpenBLAS. OpenBLAS picks its kernels for the CPU at load time; where the
environment sets OPENBLAS_CORETYPE to an older core, PyTorch gets those
slower kernels. To give PyTorch its best setting, run it with the core that
matches the CPU (case03's step 4 names it), e.g.:

    OPENBLAS_CORETYPE=Zen python3 docs/case01_pytorch_compare.py     # AMD Zen
    OPENBLAS_CORETYPE=SkylakeX python3 docs/case01_pytorch_compare.py  # AVX-512

The last line printed is machine-readable:
    RESULT device=cpu threads=2 batch=256 samples_per_s=1234.5 ...
"""
import argparse
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    p.add_argument("--hidden1", type=int, default=1024)
    p.add_argument("--hidden2", type=int, default=1024)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--samples", type=int, default=60000, help="size of the data set")
    p.add_argument("--steps", type=int, default=20, help="steps per timed run")
    p.add_argument("--repeats", type=int, default=5, help="timed runs")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args()


def main():
    args = parse_args()
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print("PyTorch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
        return 77
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: PyTorch sees no CUDA device", file=sys.stderr)
        return 77
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)

    # MNIST-shaped data, already floats in [0, 1] on the device (cpu_fast
    # converts once per run, gpu_fast uploads once: the same starting point).
    n = args.samples
    images = torch.randint(0, 256, (n, 784), dtype=torch.uint8).to(dev).float().div_(255.0)
    labels = torch.randint(0, 10, (n,), dtype=torch.int64).to(dev)
    model = nn.Sequential(nn.Linear(784, args.hidden1), nn.ReLU(),
                          nn.Linear(args.hidden1, args.hidden2), nn.ReLU(),
                          nn.Linear(args.hidden2, 10)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = n // args.batch
    if steps_per_epoch < 1:
        print(f"--batch {args.batch} is larger than the data set ({n} samples)", file=sys.stderr)
        return 2
    perm = torch.randperm(n, device=dev)

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    def run(steps, start):
        # The loss stays on the device; reading it every step would add a
        # sync per step (case01's gpu_slow lesson), so it is read once.
        total = torch.zeros((), device=dev)
        for s in range(start, start + steps):
            k = s % steps_per_epoch
            idx = perm[k * args.batch:(k + 1) * args.batch]
            x, y = images[idx], labels[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            total += loss.detach()
        return float(total) / steps

    run(args.steps, 0)  # warm-up: allocator, kernels, thread pool
    times = []
    for r in range(args.repeats):
        sync()
        t0 = time.perf_counter()
        run(args.steps, (r + 1) * args.steps)
        sync()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    rate = args.steps * args.batch / med
    # Which BLAS: PyTorch's build settings, and for Debian's "generic" build
    # the system libblas.so.3 that the alternatives system points at.
    blas = "unknown"
    try:
        cfg = torch.__config__.show()
        if "BLAS_INFO=" in cfg:
            blas = cfg.split("BLAS_INFO=")[1].split(",")[0]
        if blas == "generic":
            for alt in ("/etc/alternatives/libblas.so.3-x86_64-linux-gnu",
                        "/etc/alternatives/libblas.so.3-aarch64-linux-gnu"):
                if os.path.exists(alt):
                    blas = "generic -> " + os.path.realpath(alt)
    except Exception:
        pass
    threads = torch.get_num_threads()
    print(f"PyTorch {torch.__version__} on {args.device}"
          + (f" ({torch.cuda.get_device_name(0)})" if args.device == "cuda" else f", {threads} threads, BLAS {blas}")
          + f", OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
          + f", OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    print(f"MLP 784-{args.hidden1}-{args.hidden2}-10, batch {args.batch}, SGD lr {args.lr}: "
          f"median {med * 1e3 / args.steps:.2f} ms per step over {args.repeats} runs of {args.steps} steps "
          f"(min {min(times) * 1e3 / args.steps:.2f}, max {max(times) * 1e3 / args.steps:.2f}): "
          f"{rate:.0f} samples/s")
    print(f"RESULT device={args.device} threads={threads} batch={args.batch} "
          f"hidden={args.hidden1},{args.hidden2} samples_per_s={rate:.1f} ms_per_step={med * 1e3 / args.steps:.3f} "
          f"torch={torch.__version__} coretype={os.environ.get('OPENBLAS_CORETYPE', '')} "
          f"omp_wait_policy={os.environ.get('OMP_WAIT_POLICY', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
