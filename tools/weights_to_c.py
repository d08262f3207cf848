#!/usr/bin/env python3
"""weights_to_c.py: a trained model's weights as a C array, to link in.

    python3 tools/weights_to_c.py W.safetensors NAME OUT.c

Writes `const float NAME_weights[]` holding every parameter of the weights
file in file order (the training program writes them in its own parameter
order, which is the order NAME_infer.h's NAME_INFER_PARAMS counts), leaving
out optimizer state. Pass NAME_weights to NAME_infer_init.
"""
import array
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seqio import load_safetensors  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, name, out = sys.argv[1:]
    try:
        tensors, meta = load_safetensors(path)
    except (OSError, ValueError) as e:
        sys.exit(f"weights_to_c.py: {e}")
    parts = [(k, v) for k, v in tensors.items() if not k.startswith("optimizer.")]
    total = sum(len(v.data) for _, v in parts)
    lines = [f"/* {os.path.basename(out)}: the weights of {meta.get('model', name)} from "
             f"{os.path.basename(path)} (epoch {meta.get('epoch', '?')}); made by "
             f"tools/weights_to_c.py */", "", f"const float {name}_weights[{total}] = {{"]
    at = 0
    for k, v in parts:
        lines.append(f"    /* {k} {list(v.shape)} at {at} */")
        # array 'f' rounds to float32 as a C cast does (overflow gives inf).
        vals = [f"{x!r}f" if math.isfinite(x) else "0.0f" for x in array.array("f", v.data)]
        for i in range(0, len(vals), 8):
            lines.append("    " + ", ".join(vals[i:i + 8]) + ",")
        at += len(v.data)
    lines.append("};")
    tmp = out + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
