#!/usr/bin/env python3
"""weights_to_c.py: a trained model's weights as a C array, to link in.

    python3 tools/weights_to_c.py W.safetensors NAME OUT.c

Writes `const float NAME_weights[]` holding every parameter of the weights
file in file order (the training program writes them in its own parameter
order, which is the order NAME_infer.h's NAME_INFER_PARAMS counts), leaving
out optimizer state. Pass NAME_weights to NAME_infer_init.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import seqc_torch  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    path, name, out = sys.argv[1:]
    tensors, meta = seqc_torch.load_safetensors(path)
    parts = [(k, v) for k, v in tensors.items() if not k.startswith("optimizer.")]
    flat = np.concatenate([v.astype(np.float32).ravel() for _, v in parts])
    lines = [f"/* {os.path.basename(out)}: the weights of {meta.get('model', name)} from "
             f"{os.path.basename(path)} (epoch {meta.get('epoch', '?')}); made by "
             f"tools/weights_to_c.py */", "", f"const float {name}_weights[{flat.size}] = {{"]
    at = 0
    for k, v in parts:
        lines.append(f"    /* {k} {list(v.shape)} at {at} */")
        vals = [f"{x!r}f" if np.isfinite(x) else "0.0f" for x in v.astype(np.float32).ravel().tolist()]
        for i in range(0, len(vals), 8):
            lines.append("    " + ", ".join(vals[i:i + 8]) + ",")
        at += v.size
    lines.append("};")
    tmp = out + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
