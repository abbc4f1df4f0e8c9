#!/usr/bin/env python3
"""Export torchvision's ResNet-18 as a safetensors file that lab_resnet loads.

The tensors keep torchvision's names and dtypes (the model's state_dict:
F32 weights, biases and batch norm running statistics, plus the I64 scalars
num_batches_tracked), so `lab_resnet ... --weights FILE` starts from exactly
the model PyTorch would build.

    python3 docs/export_torchvision_weights.py --out resnet18.safetensors
        a seeded random init (--seed, default 0): the same weights as
        torch.manual_seed(seed); torchvision.models.resnet18(num_classes=N)
    python3 docs/export_torchvision_weights.py --pretrained --classes 10 --out r18_in1k.safetensors
        ImageNet weights (downloaded, or taken from torch's cache), with a new
        10-class head: fc.weight [10, 512] and fc.bias [10] are random (seeded)

--pretrained needs the network the first time; when the download fails the
script says why and exits 2, unless --fallback-seeded asks for the seeded
init instead. The file is written with the `safetensors` package when it is
installed, else by save_safetensors below (the format is small: an 8-byte
little-endian header length, a JSON header, the raw little-endian bytes).

Exit codes: 0 written, 2 bad usage, missing PyTorch or a failed download,
3 the file could not be written.
"""
import argparse
import json
import os
import struct
import sys

PROG = "export_torchvision_weights"
IMAGENET_CLASSES = 1000

# torch dtype name -> safetensors dtype (the format's names)
DTYPES = {
    "float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
}


def _dtype(t):
    name = str(t.dtype).replace("torch.", "")
    if name not in DTYPES:
        raise ValueError(f"dtype {t.dtype} has no safetensors name")
    return DTYPES[name]


def _le_bytes(t):
    """The tensor's elements as little-endian bytes, in row-major order."""
    import torch
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)   # numpy has no bfloat16; the bits are the same
    try:
        import numpy  # noqa: F401  (torchvision depends on it; here only for speed)
    except ImportError:
        if sys.byteorder != "little":
            raise RuntimeError("without numpy, only little-endian machines are supported")
        return bytes(t.reshape(-1).view(torch.uint8).tolist())
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def _write_atomic(path, chunks):
    """Writes to PATH.tmp.PID, then renames: a failed run leaves no half file."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            for c in chunks:
                f.write(c)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_safetensors_by_hand(tensors, path, metadata=None):
    """The format written directly: tensors in the dict's order, back to back;
    the header padded with spaces so the data starts at a multiple of 8."""
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = _le_bytes(t)
        header[name] = {"dtype": _dtype(t), "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    _write_atomic(path, [struct.pack("<Q", len(text)), text] + blobs)


def save_safetensors(tensors, path, metadata=None):
    """Writes name -> torch.Tensor to a safetensors file (the package when
    installed, else by hand). Used by docs/compare_with_pytorch.py too."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        save_safetensors_by_hand(tensors, path, metadata)
        return
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        save_file(tensors, tmp, metadata=dict(metadata or {"format": "pt"}))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_safetensors(path):
    """name -> torch.Tensor from a safetensors file (F32 and I64, as
    lab_resnet --save writes them). Used by docs/compare_with_pytorch.py."""
    import torch
    kinds = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        start, end = t["data_offsets"]
        flat = torch.frombuffer(bytearray(data[start:end]), dtype=kinds[t["dtype"]])
        out[name] = flat.reshape(t["shape"]).clone()
    return out


def _pretrained_resnet18():
    """ImageNet weights, with torchvision's new API (0.13+) or the old one."""
    import torchvision
    try:
        from torchvision.models import ResNet18_Weights
    except ImportError:
        return torchvision.models.resnet18(pretrained=True), "pretrained=True"
    return torchvision.models.resnet18(weights=ResNet18_Weights.IMAGENET1K_V1), "IMAGENET1K_V1"


def build_model(args):
    """The model, or None after an error message."""
    import torch
    import torchvision
    torch.manual_seed(args.seed)
    if args.pretrained:
        try:
            model, which = _pretrained_resnet18()
            print(f"ImageNet weights ({which})")
            if args.classes != IMAGENET_CLASSES:
                torch.manual_seed(args.seed)
                model.fc = torch.nn.Linear(model.fc.in_features, args.classes)
                print(f"note: the head is replaced for {args.classes} classes: fc.weight "
                      f"[{args.classes}, {model.fc.in_features}] and fc.bias [{args.classes}] are "
                      f"random (seed {args.seed}); the rest is pretrained")
            return model
        except Exception as e:   # no network, a proxy, a full disk: all mean the same here
            reason = " ".join(str(e).split()) or type(e).__name__
            if not args.fallback_seeded:
                print(f"{PROG}: cannot get torchvision's ImageNet weights: {reason} "
                      f"(--fallback-seeded exports a seeded random init instead)", file=sys.stderr)
                return None
            print(f"{PROG}: warning: cannot get torchvision's ImageNet weights ({reason}): "
                  f"exporting a seeded random init (seed {args.seed}) instead", file=sys.stderr)
            torch.manual_seed(args.seed)
    # Seeded random init: the same numbers as resnet18(num_classes=N) after
    # torch.manual_seed(seed) in any script.
    model = torchvision.models.resnet18(num_classes=args.classes)
    print(f"seeded random init (seed {args.seed})")
    if args.classes != IMAGENET_CLASSES:
        print(f"note: the head has {args.classes} classes: fc.weight [{args.classes}, 512], "
              f"fc.bias [{args.classes}] (torchvision's default is {IMAGENET_CLASSES})")
    return model


def main():
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--out", default="resnet18.safetensors", help="the file to write (default: %(default)s)")
    p.add_argument("--pretrained", action="store_true", help="torchvision's ImageNet weights (downloads them)")
    p.add_argument("--fallback-seeded", action="store_true",
                   help="with --pretrained: use the seeded init when the download fails, instead of exit 2")
    p.add_argument("--seed", type=int, default=0, help="random init seed (default: %(default)s)")
    p.add_argument("--classes", type=int, default=IMAGENET_CLASSES,
                   help="output classes; not 1000 replaces the head (default: %(default)s)")
    args = p.parse_args()
    if args.classes < 1:
        print(f"{PROG}: --classes {args.classes}: must be at least 1", file=sys.stderr)
        return 2
    if args.fallback_seeded and not args.pretrained:
        print(f"{PROG}: --fallback-seeded only applies with --pretrained", file=sys.stderr)
        return 2
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        print(f"{PROG}: --out {args.out}: the folder {out_dir} does not exist", file=sys.stderr)
        return 2
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"{PROG}: needs PyTorch and torchvision ({e}): pip install torch torchvision", file=sys.stderr)
        return 2

    model = build_model(args)
    if model is None:
        return 2
    state = model.state_dict()
    try:
        save_safetensors(state, args.out)
    except OSError as e:
        print(f"{PROG}: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 3
    params = sum(t.numel() for name, t in state.items() if t.dtype != torch.int64)
    counters = sum(1 for t in state.values() if t.dtype == torch.int64)
    print(f"wrote {args.out}: {len(state)} tensors ({counters} I64 num_batches_tracked), "
          f"{params:,} floats, {os.path.getsize(args.out) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
