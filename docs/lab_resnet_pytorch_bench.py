#!/usr/bin/env python3
"""The lab's baseline in PyTorch, for comparison with `lab_resnet baseline`.

Trains torchvision's ResNet-18 with a 10-class head with the lab's settings
(Adam lr 1e-4, cross-entropy, batch 32) and prints the training throughput in
images/s: the median step time over --steps steps after --warmup untimed ones.
The batches are random tensors already on the device, so PyTorch's figure
leaves out data loading and augmentation, which lab_resnet's includes: the
comparison is in PyTorch's favour.

    python3 docs/lab_resnet_pytorch_bench.py --threads 2                  # CPU, 32x32
    python3 docs/lab_resnet_pytorch_bench.py --threads 2 --channels-last  # often faster on CPU
    python3 docs/lab_resnet_pytorch_bench.py --device cuda --img-size 224

Give PyTorch its best settings as a user who profiled would: the thread
count of the machine, channels_last on CPU (try both), and on Debian's build
(which runs its GEMMs on OpenBLAS) an OPENBLAS_CORETYPE naming the CPU's core
where the environment sets an older one. The last line is machine-readable:
    RESULT device=cpu threads=2 batch=32 img=32 images_per_s=...
"""
import argparse
import os
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--img-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    try:
        import torch
        import torch.nn as nn
        import torchvision
    except ImportError as e:
        print(f"PyTorch or torchvision is not installed ({e}); Debian: "
              "apt-get install python3-torch python3-torchvision", file=sys.stderr)
        return 77
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: PyTorch sees no CUDA device", file=sys.stderr)
        return 77
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = torchvision.models.resnet18(num_classes=10).to(dev, memory_format=fmt)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    n = args.batch
    x = torch.randn(n, 3, args.img_size, args.img_size, device=dev).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (n,), device=dev)

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    times = []
    for step in range(args.warmup + args.steps):
        sync()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()   # as the lab's loop does every step (a sync on the GPU)
        sync()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    rate = n / med
    threads = torch.get_num_threads()
    what = torch.cuda.get_device_name(0) if args.device == "cuda" else f"{threads} threads"
    print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__} on {args.device} ({what}), "
          f"{'channels_last' if args.channels_last else 'NCHW'}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"ResNet-18, batch {n}, {args.img_size}x{args.img_size}, Adam lr 1e-4: median step "
          f"{med * 1e3:.1f} ms over {args.steps} steps after {args.warmup} warm-up "
          f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}): {rate:.1f} images/s")
    print(f"RESULT device={args.device} threads={threads} batch={n} img={args.img_size} "
          f"channels_last={int(args.channels_last)} images_per_s={rate:.2f} ms_per_step={med * 1e3:.3f} "
          f"torch={torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
