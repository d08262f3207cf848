"""seqio: .npy and safetensors files with Python's standard library alone.

The example data scripts and tools/weights_to_c.py use it so that they run
with any python3 >= 3.8, numpy or not. Arrays are `Array(shape, dtype,
data)`: `data` is a flat `array.array` in C order, `dtype` a .npy type
string. Supported: little-endian float32, float64, int32 and int64 (the
types the training programs read and write), C order, .npy versions 1-3.
save_npy writes exactly the bytes numpy.save writes (version 1.0).

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "a.npy")
    >>> save_npy(p, Array((2, 3), "<f4", range(6)))
    >>> a = load_npy(p)
    >>> a.shape, a.dtype, list(a.data)
    ((2, 3), '<f4', [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
"""
import array
import ast
import json
import struct
import sys

# .npy type string -> (array typecode, item size); safetensors names alike.
_TYPECODES = {"<f4": ("f", 4), "<f8": ("d", 8), "<i4": ("i", 4), "<i8": ("q", 8)}
_SAFETENSORS = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}
_MAGIC = b"\x93NUMPY"


def _typecode(dtype):
    code, size = _TYPECODES[dtype]
    if array.array(code).itemsize != size:   # 'i' is 4 and 'q' 8 bytes on every 32/64-bit ABI
        raise ValueError("this Python's array type %r is not %d bytes" % (code, size))
    return code


def _count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


class Array:
    """A C-order array: `shape` (tuple), `dtype` ('<f4', '<f8', '<i4', '<i8')
    and `data`, a flat array.array of that type."""

    def __init__(self, shape, dtype, data):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = dtype
        self.data = data if isinstance(data, array.array) else array.array(_typecode(dtype), data)
        if len(self.data) != _count(self.shape):
            raise ValueError("%d values for shape %r" % (len(self.data), self.shape))

    def rows(self):
        """The data as consecutive slices along the last axis."""
        n = self.shape[-1] if self.shape else 1
        return [self.data[i:i + n] for i in range(0, len(self.data), n)]


def _from_bytes(raw, dtype, shape, what):
    code = _typecode(dtype)
    data = array.array(code)
    if len(raw) != _count(shape) * data.itemsize:
        raise ValueError("%s: %d data bytes for shape %r of %s" % (what, len(raw), shape, dtype))
    data.frombytes(raw)
    if sys.byteorder == "big":
        data.byteswap()
    return Array(shape, dtype, data)


def _to_bytes(a):
    data = a.data
    if data.typecode != _typecode(a.dtype):
        data = array.array(_typecode(a.dtype), data)
    if sys.byteorder == "big":
        data = array.array(data.typecode, data)
        data.byteswap()
    return data.tobytes()


def load_npy(path):
    """Read a .npy file into an Array; anything else is a ValueError naming it."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:6] != _MAGIC or len(raw) < 10:
        raise ValueError("%s: not a .npy file" % path)
    major = raw[6]
    if major == 1:
        hlen, start = struct.unpack("<H", raw[8:10])[0], 10
    elif major in (2, 3) and len(raw) >= 12:
        hlen, start = struct.unpack("<I", raw[8:12])[0], 12
    else:
        raise ValueError("%s: unsupported .npy version %d" % (path, major))
    try:
        header = ast.literal_eval(raw[start:start + hlen].decode("latin1" if major < 3 else "utf-8"))
        dtype, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    except (ValueError, SyntaxError, KeyError, TypeError):
        raise ValueError("%s: bad .npy header" % path) from None
    if dtype not in _TYPECODES:
        raise ValueError("%s: dtype %r is not one of %s" % (path, dtype, ", ".join(_TYPECODES)))
    if fortran:
        raise ValueError("%s: Fortran order is not supported" % path)
    return _from_bytes(raw[start + hlen:], dtype, shape, path)


def npy_bytes(a):
    """An Array as the bytes numpy.save writes: a version 1.0 header whose
    dict is padded for in-place growth and to a 64-byte boundary."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (a.dtype, a.shape)
    if a.shape:
        header += " " * (21 - len(repr(a.shape[0])))
    hlen = len(header) + 1
    pad = 64 - (10 + hlen) % 64
    head = _MAGIC + b"\x01\x00" + struct.pack("<H", hlen + pad) + header.encode("latin1")
    return head + b" " * pad + b"\n" + _to_bytes(a)


def save_npy(path, a):
    with open(path, "wb") as fh:
        fh.write(npy_bytes(a))


def load_safetensors(path):
    """Read a safetensors file: ({name: Array} in the header's order, metadata)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    n = struct.unpack("<Q", raw[:8])[0]
    if n > len(raw) - 8:
        raise ValueError("%s: header length %d exceeds the file" % (path, n))
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("%s: the header is not JSON" % path) from None
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, e in header.items():
        if e.get("dtype") not in _SAFETENSORS:
            raise ValueError("%s: tensor %r: dtype %s is not one of %s"
                             % (path, name, e.get("dtype"), ", ".join(_SAFETENSORS)))
        b, end = e["data_offsets"]
        if not 0 <= b <= end <= len(data):
            raise ValueError("%s: tensor %r: bad data_offsets %r" % (path, name, (b, end)))
        tensors[name] = _from_bytes(data[b:end], _SAFETENSORS[e["dtype"]], e["shape"],
                                    "%s: tensor %r" % (path, name))
    return tensors, meta


def argmax(values):
    """The index of the first largest value, as numpy's argmax."""
    best = 0
    for k in range(1, len(values)):
        if values[k] > values[best]:
            best = k
    return best


if __name__ == "__main__":   # run the examples above: python3 tools/seqio.py [-v]
    import doctest
    sys.exit(doctest.testmod()[0])
