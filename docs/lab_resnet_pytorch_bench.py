#!/usr/bin/env python3
"""The lab's baseline in PyTorch, for comparison with `lab_resnet baseline`.

Trains torchvision's ResNet-18 with a 10-class head with the lab's settings
(Adam lr 1e-4, cross-entropy, batch 32) and prints the training throughput in
images/s: the median step time over --steps steps after --warmup untimed ones.
By default the batches are random tensors already on the device: the
figure is PyTorch's training step alone, to set against the "training
alone" figure of `lab_resnet baseline`. With --data DIR (CIFAR-10 binary
files, such as `lab_resnet --generate DIR` writes) it runs the lab's whole
baseline instead: torchvision's CIFAR-style dataset of PIL images, the lab's
transforms (RandomResizedCrop, RandomHorizontalFlip, ToTensor, Normalize),
a DataLoader with num_workers=0 and shuffling, the copy to the device, the
step: to set against the baseline's images/s. It prints the median batch
split into loading, copying and training, as lab_resnet does.

On the GPU the step is float32 as lab_resnet's is: no TF32 in cuDNN's
convolutions or cuBLAS's products (PyTorch allows TF32 in convolutions by
default; --tf32 allows it, for comparison), and cuDNN's autotuner on
(torch.backends.cudnn.benchmark, PyTorch's best setting for a fixed shape).

    python3 docs/lab_resnet_pytorch_bench.py --threads 2                  # CPU, 32x32
    python3 docs/lab_resnet_pytorch_bench.py --threads 2 --channels-last  # often faster on CPU
    python3 docs/lab_resnet_pytorch_bench.py --device cuda --img-size 224
    python3 docs/lab_resnet_pytorch_bench.py --device cuda --img-size 224 --data DIR
    python3 docs/lab_resnet_pytorch_bench.py --device cuda --img-size 224 --amp fp16   # Part 3's peer
    python3 docs/lab_resnet_pytorch_bench.py --threads 2 --amp bf16                    # CPU autocast

--amp fp16|bf16 runs the step as the lab's Part 3 does: the forward and the
loss under torch.autocast in that type, fp16 with a GradScaler (PyTorch's
defaults). On the GPU the run also prints the peak memory PyTorch's
allocator held (torch.cuda.max_memory_allocated), to set against
`lab_resnet amp`'s rows. PyTorch 1.13's CPU autocast knows bf16 only.

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


MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def loader_batches(args, torch, torchvision):
    """The lab's baseline loader: CIFAR-10 records as PIL images (as
    torchvision.datasets.CIFAR10 holds them), the lab's transforms, a
    DataLoader in this thread; an endless iterator of (images, labels)."""
    import numpy as np
    from PIL import Image
    import torchvision.transforms as T
    recs = []
    for i in range(1, 6):
        with open(os.path.join(args.data, f"data_batch_{i}.bin"), "rb") as f:
            raw = f.read()
        recs.append(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073))
    recs = np.concatenate(recs)
    labels = recs[:, 0].astype(np.int64)
    images = recs[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)   # HWC, as CIFAR10 does
    transform = T.Compose([T.RandomResizedCrop(args.img_size), T.RandomHorizontalFlip(),
                           T.ToTensor(), T.Normalize(MEAN, STD)])

    class Cifar(torch.utils.data.Dataset):
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            return transform(Image.fromarray(images[i])), int(labels[i])

    dl = torch.utils.data.DataLoader(Cifar(), batch_size=args.batch, shuffle=True, num_workers=0,
                                     drop_last=True)
    while True:
        yield from dl


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
    p.add_argument("--data", help="CIFAR-10 binary folder: time the whole baseline, loading included")
    p.add_argument("--tf32", action="store_true", help="allow TF32 on the GPU (PyTorch's default for convolutions)")
    p.add_argument("--no-cudnn-benchmark", action="store_true", help="cuDNN's heuristics instead of its autotuner")
    p.add_argument("--amp", choices=["fp16", "bf16"], help="autocast in this type (fp16 with a GradScaler)")
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
    amp_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(args.amp)
    if args.amp == "fp16" and args.device == "cpu":
        print(f"--amp fp16: PyTorch {torch.__version__}'s CPU autocast supports bf16 only", file=sys.stderr)
        return 77
    scaler = torch.cuda.amp.GradScaler() if args.amp == "fp16" else None
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = not args.no_cudnn_benchmark
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = torchvision.models.resnet18(num_classes=10).to(dev, memory_format=fmt)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    n = args.batch
    if args.data:
        batches = loader_batches(args, torch, torchvision)
    else:
        x = torch.randn(n, 3, args.img_size, args.img_size, device=dev).contiguous(memory_format=fmt)
        y = torch.randint(0, 10, (n,), device=dev)

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    times, load_times, copy_times = [], [], []
    for step in range(args.warmup + args.steps):
        sync()
        t0 = time.perf_counter()
        if args.data:
            xb, yb = next(batches)
            t_loaded = time.perf_counter()
            x = xb.to(dev).contiguous(memory_format=fmt)
            y = yb.to(dev)
            sync()
            t_copied = time.perf_counter()
        else:
            t_loaded = t_copied = t0
        opt.zero_grad(set_to_none=True)
        if amp_dtype is None:
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        else:
            with torch.autocast(device_type=args.device, dtype=amp_dtype):
                loss = loss_fn(model(x), y)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
        loss.item()   # as the lab's loop does every step (a sync on the GPU)
        sync()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
            load_times.append(t_loaded - t0)
            copy_times.append(t_copied - t_loaded)
    med = statistics.median(times)
    rate = n / med
    threads = torch.get_num_threads()
    what = torch.cuda.get_device_name(0) if args.device == "cuda" else f"{threads} threads"
    gpu_math = (f", TF32 {'allowed' if args.tf32 else 'off'}, cudnn.benchmark "
                f"{'off' if args.no_cudnn_benchmark else 'on'}") if args.device == "cuda" else ""
    amp_text = f", autocast {args.amp}{' + GradScaler' if scaler else ''}" if args.amp else ""
    print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__} on {args.device} ({what}), "
          f"{'channels_last' if args.channels_last else 'NCHW'}{gpu_math}{amp_text}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    what_ran = ("the whole baseline: DataLoader (num_workers=0, the lab's transforms on PIL images), "
                "copy, step" if args.data else "the training step alone, on tensors already on the device")
    print(f"Timed: {what_ran}")
    print(f"ResNet-18, batch {n}, {args.img_size}x{args.img_size}, Adam lr 1e-4: median step "
          f"{med * 1e3:.1f} ms over {args.steps} steps after {args.warmup} warm-up "
          f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}): {rate:.1f} images/s")
    if args.data:
        load = statistics.median(load_times)
        copy = statistics.median(copy_times)
        train = statistics.median([t - l - c for t, l, c in zip(times, load_times, copy_times)])
        print(f"Median batch split: {load * 1e3:.1f} ms loading it, {copy * 1e3:.2f} ms copying it to "
              f"the device, {train * 1e3:.1f} ms training on it: {n / train:.1f} images/s for the training alone")
    peak = ""
    if args.device == "cuda":
        mib = torch.cuda.max_memory_allocated() / 2**20
        print(f"Peak memory PyTorch's allocator held (max_memory_allocated): {mib:.1f} MiB")
        peak = f" peak_mib={mib:.1f}"
    print(f"RESULT device={args.device} threads={threads} batch={n} img={args.img_size} "
          f"channels_last={int(args.channels_last)} tf32={int(args.tf32 and args.device == 'cuda')} "
          f"amp={args.amp or 'fp32'}{peak} "
          f"loader={int(bool(args.data))} images_per_s={rate:.2f} ms_per_step={med * 1e3:.3f} "
          f"torch={torch.__version__} omp_wait_policy={os.environ.get('OMP_WAIT_POLICY', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
