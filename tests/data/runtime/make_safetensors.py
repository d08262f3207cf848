# Writes st_ref.safetensors the way the reference `safetensors` library lays
# files out (sorted JSON keys, __metadata__ first, header padded with spaces
# to 8 bytes), without needing that package. check_runtime_safetensors.c
# reads it. Run: /usr/bin/python3 make_safetensors.py (from this folder).
import json
import struct

import numpy as np

tensors = {
    "dense.kernel": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
    "dense.bias": np.array([-1.5, 2.0, 0.125], dtype=np.float64),
    "lstm.empty": np.zeros((0, 4), dtype=np.float32),
}
meta = {"model": "goodbye", "epoch": "12"}

header = {"__metadata__": meta}
data = b""
for name in sorted(tensors):
    a = tensors[name]
    raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
    header[name] = {"dtype": {"float32": "F32", "float64": "F64"}[a.dtype.name],
                    "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open("st_ref.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
