#!/usr/bin/python3
"""make_seeds.py: the hand-made seed inputs of the npy and safetensors
fuzzers (run once; the outputs are committed next to this script).
Valid files of every shape the readers accept, plus the near misses the
fuzzers should start from: each a few bytes from a different error."""
import io, json, os, struct, sys
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

def npy(name, arr, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, arr)
    else:
        np.lib.format.write_array(b, arr, version=version)
    open(os.path.join(here, "npy", name + ".npy"), "wb").write(b.getvalue())

npy("f32_2x3", np.arange(6, dtype="<f4").reshape(2, 3))
npy("f64_scalar", np.array(3.5))
npy("i4_empty", np.zeros((0, 5), dtype="<i4"))
npy("i8_tokens", np.array([[1, 2, 3], [4, 5, 6]], dtype="<i8"))
npy("u2_v2", np.arange(4, dtype="<u2"), version=(2, 0))
npy("i1_v3", np.arange(-3, 3, dtype="i1"), version=(3, 0))
npy("bool", np.array([True, False, True]))
npy("u8_max", np.array([2**64 - 1], dtype="<u8"))
npy("f4_nan", np.array([np.nan, np.inf, -0.0], dtype="<f4"))
npy("f8_3d", np.ones((2, 2, 2), dtype="<f8"))
npy("be_f4", np.arange(3, dtype=">f4"))
npy("fortran", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
npy("f2_unsupported", np.arange(3, dtype="<f2"))
npy("c8_unsupported", np.arange(3, dtype="<c8"))
npy("structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
raw = open(os.path.join(here, "npy", "f32_2x3.npy"), "rb").read()
open(os.path.join(here, "npy", "lying_shape.npy"), "wb").write(raw.replace(b"(2, 3)", b"(9, 3)"))
open(os.path.join(here, "npy", "truncated.npy"), "wb").write(raw[:-5])

def fnv1a(data):
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def st(name, tensors, meta=None, checksum=False, dtype="F32", raw_header=None):
    header, data, off = {}, b"", 0
    for tname, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype="<f4" if dtype == "F32" else "<f8")
        b = arr.tobytes()
        header[tname] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    meta = dict(meta or {})
    if checksum:
        meta["checksum"] = "fnv1a64:%016x" % fnv1a(data)
    if meta:
        header = {"__metadata__": meta, **header}
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    open(os.path.join(here, "safetensors", name + ".safetensors"), "wb").write(
        struct.pack("<Q", len(h)) + h + data)

k = np.arange(6, dtype=np.float32).reshape(2, 3) / 10
bias = np.zeros(3, dtype=np.float32)
base = {"model": "fuzz", "format": "seqc-1", "dtype": "float32", "epoch": "3"}
st("ckpt_weights", [("dense.kernel", k), ("dense.bias", bias)], base, checksum=True)
st("ckpt_adam", [("dense.kernel", k), ("dense.bias", bias),
                 ("optimizer.momentum.dense.kernel", k), ("optimizer.momentum.dense.bias", bias),
                 ("optimizer.velocity.dense.kernel", k), ("optimizer.velocity.dense.bias", bias)],
   dict(base, optimizer="adam", **{"optimizer.iterations": "12"}), checksum=True)
st("keras_nochecksum", [("dense.kernel", k), ("dense.bias", bias)])
st("f64", [("dense.kernel", k), ("dense.bias", bias)], dtype="F64")
st("empty_tensor", [("e", np.zeros((0, 4))), ("dense.bias", bias)])
st("empty_header", [], raw_header=b"{}")
st("meta_only", [], {"a": "b"})
st("unicode_meta", [], raw_header=b'{"__metadata__":{"k\\u00e9\\ud83d\\ude00":"v\\n\\"x"}}')
st("bad_checksum", [("dense.kernel", k), ("dense.bias", bias)], dict(base, checksum="fnv1a64:0000000000000000"))
st("overlap", [], raw_header=b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
   b'"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}')
st("bf16", [], raw_header=b'{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}')
