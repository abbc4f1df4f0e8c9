#!/usr/bin/env python3
"""Checks a lab_resnet ONNX export with ONNX's own tools: onnx.checker
accepts the file, and onnxruntime's logits on the reference batch (written
by `lab_resnet export --onnx-reference`) equal lab_resnet's own evaluation of
the same weights within 1e-4 (relative to the largest logit).

    onnx_check.py MODEL.onnx REFERENCE.bin [--arch resnet18|resnet50]

Exit 0 (pass), 1 (a check failed), 77 (onnx or onnxruntime missing)."""
import struct
import sys


def main():
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
    except ImportError as e:
        print(f"skipped: {e} (pip install onnx onnxruntime)")
        return 77
    model_path, ref_path = sys.argv[1], sys.argv[2]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({n.op_type for n in model.graph.node})
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    with open(ref_path, "rb") as f:
        n, c, h, w, k = struct.unpack("<5i", f.read(20))
        images = np.frombuffer(f.read(4 * n * c * h * w), dtype="<f4").reshape(n, c, h, w)
        want = np.frombuffer(f.read(4 * n * k), dtype="<f4").reshape(n, k)
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"input": images})[0]
    err = float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))
    ok = err <= 1e-4 and opset >= 13
    print(f"onnx.checker: accepted; opset {opset}; operators {', '.join(ops)}; {len(model.graph.initializer)} "
          f"initializers")
    print(f"onnxruntime {ort.__version__} against lab_resnet on {n} images of {h} x {w}: max |difference| / max "
          f"|logit| = {err:.2e} (tolerance 1e-4): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
