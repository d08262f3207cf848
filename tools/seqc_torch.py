"""seqc_torch: move weights between seqc (Keras layouts) and PyTorch, and run
seqc training programs from Python.

A seqc training program (``seqc build model.seq -o BIN``) reads and writes its
weights as safetensors files whose tensors have Keras's names and layouts
(``lstm.kernel`` [D, 4u], ``dense.kernel`` [in, out], ...; see
docs/language.md section 7). This module has three parts:

1. safetensors I/O without the ``safetensors`` package::

       >>> import numpy as np, os, tempfile
       >>> p = os.path.join(tempfile.mkdtemp(), "w.safetensors")
       >>> save_safetensors(p, {"dense.kernel": np.ones((2, 3), np.float32)},
       ...                  {"format": "seqc-1"})
       >>> t, meta = load_safetensors(p)
       >>> t["dense.kernel"].shape, meta["format"]
       ((2, 3), 'seqc-1')

2. Conversions between Keras layouts and ``torch.nn`` modules, both ways,
   for Dense/Linear, Conv1D/Conv1d, Embedding, SimpleRNN/RNN, LSTM, GRU
   (reset_after=True) and Bidirectional. ``keras_*_to_torch`` copy numpy
   arrays into an existing module (in place, under ``torch.no_grad``);
   ``torch_*_to_keras`` return a dict of numpy arrays keyed by the Keras
   parameter name (``kernel``, ``recurrent_kernel``, ``bias``, ...). With
   ``grad=True`` they convert the parameters' ``.grad`` instead, which is the
   gradient with respect to the Keras parameter (see the notes on biases
   below)::

       >>> import torch
       >>> lin = torch.nn.Linear(3, 2)
       >>> keras_dense_to_torch(lin, np.zeros((3, 2), np.float32), np.ones(2, np.float32))
       >>> sorted(torch_dense_to_keras(lin))
       ['bias', 'kernel']
       >>> with_prefix("dense", torch_dense_to_keras(lin))["dense.bias"]
       array([1., 1.], dtype=float32)

3. ``SeqcProgram``: write the .npy inputs, run ``BIN predict|grad|train``,
   read the results back (``build`` compiles a .seq first).

Layout rules (KERAS-SEMANTICS.md section 9): PyTorch stores W as [out, in];
Keras as [in, out]. LSTM gate blocks have the same order (i, f, g=c, o);
GRU blocks are z, r, h in Keras and r, z, n in PyTorch. PyTorch RNNs have two
biases (b_ih, b_hh):

* SimpleRNN, LSTM: Keras has one bias = b_ih + b_hh. Keras -> torch puts it
  in b_ih and zeros in b_hh; torch -> Keras sums them. The two torch biases
  are redundant: their gradients are equal, and each equals the gradient of
  the Keras bias, so ``grad=True`` returns b_ih's gradient (b_hh's if b_ih
  has none), never the sum. To make a torch optimizer behave like a Keras
  one (one bias, one update), freeze b_hh with ``freeze_redundant_biases``.
* GRU reset_after=True: Keras bias [2, 3u] = [b_ih; b_hh] (reordered), an
  exact one-to-one map. GRU reset_after=False has no nn.GRU equivalent
  (r is applied before the recurrent matmul) and is refused.

Everything returned in Keras layout is float32 numpy (the seqc binaries are
float32), whatever the module's dtype.
"""

import json
import os
import subprocess
import tempfile

import numpy as np

__all__ = [
    "load_safetensors", "save_safetensors", "fnv1a64",
    "with_prefix", "strip_prefix",
    "keras_dense_to_torch", "torch_dense_to_keras",
    "keras_conv1d_to_torch", "torch_conv1d_to_keras",
    "keras_embedding_to_torch", "torch_embedding_to_keras",
    "keras_simple_rnn_to_torch", "torch_simple_rnn_to_keras",
    "keras_lstm_to_torch", "torch_lstm_to_keras",
    "keras_gru_to_torch", "torch_gru_to_keras",
    "keras_rnn_to_torch", "torch_rnn_to_keras",
    "keras_bidirectional_to_torch", "torch_bidirectional_to_keras",
    "freeze_redundant_biases", "write_npy", "SeqcProgram", "SeqcError",
]

# ---------------------------------------------------------------- safetensors

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U8": np.uint8, "BOOL": np.bool_,
}
_NAMES = {np.dtype(v).str: k for k, v in _DTYPES.items()}

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def fnv1a64(data, h=FNV_OFFSET):
    """FNV-1a 64-bit hash of ``data`` (bytes), as seqc's checkpoint.c computes
    the ``checksum`` metadata ("fnv1a64:%016x" of the data section).

    >>> "%016x" % fnv1a64(b"")
    'cbf29ce484222325'
    >>> "%016x" % fnv1a64(b"a")
    'af63dc4c8601ec8c'
    """
    mask = 0xFFFFFFFFFFFFFFFF
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & mask
    return h


def load_safetensors(path):
    """Read a safetensors file: ``(tensors, metadata)``.

    ``tensors`` maps each name to a numpy array (a copy, in the file's dtype
    and shape); ``metadata`` is the ``__metadata__`` dict (strings), or {}.
    The header length and every tensor's byte range are checked.

    >>> import numpy as np, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "g.safetensors")
    >>> save_safetensors(p, {"loss": np.float32(0.5)})
    >>> load_safetensors(p)[0]["loss"]
    array(0.5, dtype=float32)
    """
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    n = int.from_bytes(raw[:8], "little")
    if n > len(raw) - 8:
        raise ValueError("%s: header length %d exceeds the file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, e in header.items():
        if e["dtype"] not in _DTYPES:
            raise ValueError("%s: tensor %r: unsupported dtype %s" % (path, name, e["dtype"]))
        dt = np.dtype(_DTYPES[e["dtype"]]).newbyteorder("<")
        b, end = e["data_offsets"]
        shape = tuple(int(s) for s in e["shape"])
        if not 0 <= b <= end <= len(data) or end - b != dt.itemsize * int(np.prod(shape)):
            raise ValueError("%s: tensor %r: bad data_offsets %r" % (path, name, (b, end)))
        tensors[name] = np.frombuffer(data[b:end], dtype=dt).reshape(shape).astype(dt.newbyteorder("="))
    return tensors, meta


def save_safetensors(path, tensors, metadata=None, checksum=False):
    """Write ``tensors`` (name -> array) to ``path`` atomically (a temp file in
    the same directory, then ``os.replace``).

    Arrays are written in their own dtype, little-endian, in dict order; the
    header is space-padded to a multiple of 8 bytes. ``metadata`` values are
    converted to strings. With ``checksum=True`` the metadata gets
    ``checksum = "fnv1a64:<hex>"`` of the data section, as seqc writes it (a
    seqc binary verifies a checksum when present and skips the check when
    absent, so converted weights need none). Don't put ``optimizer`` keys in
    the metadata unless you also write the optimizer state tensors: a seqc
    binary would then try to resume that state.

    >>> import numpy as np, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_safetensors(p, {"w": np.arange(3, dtype=np.float32)}, {"epoch": 0}, checksum=True)
    >>> load_safetensors(p)[1]["checksum"]
    'fnv1a64:e15abad3be4cb208'
    """
    header, chunks, offset = {}, [], 0
    for name, a in tensors.items():
        a = np.asarray(a)
        a = np.require(a.astype(a.dtype.newbyteorder("<"), copy=False), requirements="C")
        key = np.dtype(a.dtype.newbyteorder("=")).str
        if key not in _NAMES:
            raise ValueError("tensor %r: unsupported dtype %s" % (name, a.dtype))
        b = a.tobytes()
        header[name] = {"dtype": _NAMES[key], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    data = b"".join(chunks)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    if checksum:
        meta["checksum"] = "fnv1a64:%016x" % fnv1a64(data)
    if meta:
        header = dict([("__metadata__", meta)] + list(header.items()))
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(len(h).to_bytes(8, "little"))
            f.write(h)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def with_prefix(prefix, params):
    """``{"kernel": a}`` -> ``{"<prefix>.kernel": a}``.

    >>> with_prefix("lstm_1", {"bias": 0})
    {'lstm_1.bias': 0}
    """
    return {"%s.%s" % (prefix, k): v for k, v in params.items()}


def strip_prefix(prefix, tensors):
    """The tensors named ``<prefix>.<rest>``, keyed by ``<rest>``.

    >>> strip_prefix("dense", {"dense.kernel": 1, "dense_1.kernel": 2})
    {'kernel': 1}
    """
    p = prefix + "."
    return {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}


# ---------------------------------------------------------------- conversions

def _np(t):
    """A torch tensor (or None) as float32 numpy."""
    return None if t is None else t.detach().cpu().numpy().astype(np.float32)


def _val(p, grad):
    if p is None:
        return None
    if grad:
        if p.grad is None:
            raise ValueError("parameter has no .grad (run backward first, or it is frozen)")
        return _np(p.grad)
    return _np(p)


def _copy(p, a):
    """Copy numpy ``a`` into parameter ``p`` (shape checked)."""
    import torch
    a = np.asarray(a)
    if tuple(p.shape) != a.shape:
        raise ValueError("shape mismatch: torch %s, given %s" % (tuple(p.shape), a.shape))
    with torch.no_grad():
        p.copy_(torch.as_tensor(a, dtype=p.dtype))


def keras_dense_to_torch(linear, kernel, bias=None):
    """Copy a Keras Dense ``kernel`` [in, out] (and ``bias`` [out]) into an
    ``nn.Linear(in, out)``: weight = kernelᵀ.

    >>> import torch, numpy as np
    >>> lin = torch.nn.Linear(2, 3)
    >>> keras_dense_to_torch(lin, np.arange(6, dtype=np.float32).reshape(2, 3), np.zeros(3))
    >>> lin.weight.detach().numpy().tolist()
    [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    """
    _copy(linear.weight, np.asarray(kernel).T)
    if bias is not None:
        _copy(linear.bias, bias)
    elif linear.bias is not None:
        raise ValueError("the Linear has a bias but none was given (use_bias=false?)")


def torch_dense_to_keras(linear, grad=False):
    """``nn.Linear`` -> ``{"kernel": [in, out], "bias": [out]}`` (no bias key
    without a bias). ``grad=True`` converts the gradients."""
    out = {"kernel": _val(linear.weight, grad).T.copy()}
    if linear.bias is not None:
        out["bias"] = _val(linear.bias, grad)
    return out


def keras_conv1d_to_torch(conv, kernel, bias=None):
    """Copy a Keras Conv1D ``kernel`` [K, Cin, F] into ``nn.Conv1d(Cin, F, K)``:
    weight[f, c, k] = kernel[k, c, f]. Padding is not converted: Keras's
    ``causal`` is a left pad of d(K-1) and ``same`` puts the odd element on
    the right, so build the Conv1d with padding=0 and pad explicitly
    (``torch.nn.functional.pad(x, (left, right))`` on [B, C, L]).

    >>> import torch, numpy as np
    >>> c = torch.nn.Conv1d(1, 2, 3)
    >>> keras_conv1d_to_torch(c, np.arange(6, dtype=np.float32).reshape(3, 1, 2), np.zeros(2))
    >>> c.weight[1, 0].tolist()
    [1.0, 3.0, 5.0]
    """
    _copy(conv.weight, np.transpose(np.asarray(kernel), (2, 1, 0)))
    if bias is not None:
        _copy(conv.bias, bias)


def torch_conv1d_to_keras(conv, grad=False):
    """``nn.Conv1d`` -> ``{"kernel": [K, Cin, F], "bias": [F]}``."""
    out = {"kernel": np.ascontiguousarray(np.transpose(_val(conv.weight, grad), (2, 1, 0)))}
    if conv.bias is not None:
        out["bias"] = _val(conv.bias, grad)
    return out


def keras_embedding_to_torch(emb, embeddings):
    """Keras ``embeddings`` [V, D] into ``nn.Embedding(V, D)``: same layout."""
    _copy(emb.weight, embeddings)


def torch_embedding_to_keras(emb, grad=False):
    """``nn.Embedding`` -> ``{"embeddings": [V, D]}``."""
    return {"embeddings": _val(emb.weight, grad)}


def _kind(module):
    import torch.nn as nn
    if isinstance(module, nn.LSTM):
        return "lstm", 4
    if isinstance(module, nn.GRU):
        return "gru", 3
    if isinstance(module, nn.RNN):   # nonlinearity tanh (Keras's default) or relu
        return "rnn", 1
    raise TypeError("not an nn.RNN, nn.LSTM or nn.GRU: %r" % type(module).__name__)


# Keras block order -> torch block order, as the list of Keras blocks taken
# for each torch block. GRU: torch (r, z, n) = Keras blocks (1, 0, 2); the
# permutation is its own inverse.
_ORDER = {"rnn": [0], "lstm": [0, 1, 2, 3], "gru": [1, 0, 2]}


def _blocks(a, order, axis):
    """Reorder the gate blocks of ``a`` along ``axis``."""
    parts = np.split(np.asarray(a), len(order), axis=axis)
    return np.concatenate([parts[i] for i in order], axis=axis)


def _suffix(layer, reverse):
    return "_l%d%s" % (layer, "_reverse" if reverse else "")


def keras_rnn_to_torch(module, kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """Copy a Keras SimpleRNN/LSTM/GRU into layer ``layer`` (direction
    ``reverse``) of an ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (chosen by the
    module's type; GRU means reset_after=True with ``bias`` [2, 3u]).

    weight_ih = kernelᵀ and weight_hh = recurrent_kernelᵀ with the gate
    blocks reordered (GRU z,r,h -> r,z,n). SimpleRNN/LSTM: b_ih = bias,
    b_hh = 0. GRU: b_ih = bias[0], b_hh = bias[1] (reordered).

    >>> import torch, numpy as np
    >>> g = torch.nn.GRU(2, 1)
    >>> b = np.array([[1, 2, 3], [4, 5, 6]], np.float32)   # rows: input, recurrent; z r h
    >>> keras_rnn_to_torch(g, np.zeros((2, 3)), np.zeros((1, 3)), b)
    >>> g.bias_ih_l0.tolist(), g.bias_hh_l0.tolist()        # r z n
    ([2.0, 1.0, 3.0], [5.0, 4.0, 6.0])
    """
    kind, _ = _kind(module)
    order, s = _ORDER[kind], _suffix(layer, reverse)
    _copy(getattr(module, "weight_ih" + s), _blocks(kernel, order, 1).T)
    _copy(getattr(module, "weight_hh" + s), _blocks(recurrent_kernel, order, 1).T)
    b_ih, b_hh = getattr(module, "bias_ih" + s, None), getattr(module, "bias_hh" + s, None)
    if bias is None:
        if b_ih is not None:
            raise ValueError("the module has biases but none was given (build it with bias=False)")
        return
    bias = np.asarray(bias)
    if kind == "gru":
        if bias.shape != (2, kernel.shape[1]):
            raise ValueError("GRU bias %s: only reset_after=True ([2, 3u]) maps to nn.GRU; "
                             "reset_after=False has no nn.GRU equivalent" % (bias.shape,))
        _copy(b_ih, _blocks(bias[0], order, 0))
        _copy(b_hh, _blocks(bias[1], order, 0))
    else:
        _copy(b_ih, bias)
        _copy(b_hh, np.zeros_like(bias))


def torch_rnn_to_keras(module, layer=0, reverse=False, grad=False):
    """Layer ``layer`` (direction ``reverse``) of an ``nn.RNN``/``nn.LSTM``/
    ``nn.GRU`` -> ``{"kernel", "recurrent_kernel", "bias"}`` in Keras layout
    (no "bias" when the module has none). SimpleRNN/LSTM bias = b_ih + b_hh;
    GRU bias = [b_ih; b_hh] reordered to z,r,h, shape [2, 3u].

    ``grad=True`` converts gradients. For SimpleRNN/LSTM the Keras bias's
    gradient is b_ih's (equal to b_hh's; the sum would count it twice);
    b_hh's is used when b_ih has none (frozen).

    >>> import torch
    >>> m = torch.nn.LSTM(3, 2)
    >>> {k: v.shape for k, v in torch_rnn_to_keras(m).items()}
    {'kernel': (3, 8), 'recurrent_kernel': (2, 8), 'bias': (8,)}
    """
    kind, _ = _kind(module)
    order, s = _ORDER[kind], _suffix(layer, reverse)
    out = {
        "kernel": np.ascontiguousarray(_blocks(_val(getattr(module, "weight_ih" + s), grad).T, order, 1)),
        "recurrent_kernel": np.ascontiguousarray(
            _blocks(_val(getattr(module, "weight_hh" + s), grad).T, order, 1)),
    }
    b_ih, b_hh = getattr(module, "bias_ih" + s, None), getattr(module, "bias_hh" + s, None)
    if b_ih is None:
        return out
    if kind == "gru":
        out["bias"] = np.stack([_blocks(_val(b_ih, grad), order, 0), _blocks(_val(b_hh, grad), order, 0)])
    elif not grad:
        out["bias"] = (b_ih.detach().double() + b_hh.detach().double()).cpu().numpy().astype(np.float32)
    else:
        out["bias"] = _val(b_ih if b_ih.grad is not None else b_hh, True)
    return out


def keras_simple_rnn_to_torch(rnn, kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """SimpleRNN -> ``nn.RNN`` (nonlinearity="tanh" for Keras's default);
    see ``keras_rnn_to_torch``."""
    keras_rnn_to_torch(rnn, kernel, recurrent_kernel, bias, layer, reverse)


def torch_simple_rnn_to_keras(rnn, layer=0, reverse=False, grad=False):
    """``nn.RNN`` -> SimpleRNN dict; see ``torch_rnn_to_keras``."""
    return torch_rnn_to_keras(rnn, layer, reverse, grad)


def keras_lstm_to_torch(lstm, kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """LSTM -> ``nn.LSTM`` (same gate order i, f, g, o); b_ih = bias, b_hh = 0.

    >>> import torch, numpy as np
    >>> m = torch.nn.LSTM(3, 2, batch_first=True)
    >>> keras_lstm_to_torch(m, np.ones((3, 8)), np.ones((2, 8)), np.arange(8))
    >>> m.bias_hh_l0.abs().sum().item(), m.bias_ih_l0[5].item()
    (0.0, 5.0)
    """
    keras_rnn_to_torch(lstm, kernel, recurrent_kernel, bias, layer, reverse)


def torch_lstm_to_keras(lstm, layer=0, reverse=False, grad=False):
    """``nn.LSTM`` -> LSTM dict; see ``torch_rnn_to_keras``."""
    return torch_rnn_to_keras(lstm, layer, reverse, grad)


def keras_gru_to_torch(gru, kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """GRU(reset_after=True) -> ``nn.GRU``; see ``keras_rnn_to_torch``."""
    keras_rnn_to_torch(gru, kernel, recurrent_kernel, bias, layer, reverse)


def torch_gru_to_keras(gru, layer=0, reverse=False, grad=False):
    """``nn.GRU`` -> GRU(reset_after=True) dict; see ``torch_rnn_to_keras``."""
    return torch_rnn_to_keras(gru, layer, reverse, grad)


def keras_bidirectional_to_torch(module, forward, backward, layer=0):
    """A Keras Bidirectional's two halves (dicts with kernel,
    recurrent_kernel, bias; e.g. ``strip_prefix("bidirectional.forward_lstm",
    w)``) into an RNN/LSTM/GRU built with ``bidirectional=True``: the
    backward layer is torch's ``*_reverse`` direction. torch's reverse
    outputs are already in time order, like Keras's concat/sum/... merges;
    Keras's return_sequences=False backward output is torch's
    ``out[:, 0, H:]``."""
    keras_rnn_to_torch(module, forward["kernel"], forward["recurrent_kernel"], forward.get("bias"), layer)
    keras_rnn_to_torch(module, backward["kernel"], backward["recurrent_kernel"], backward.get("bias"),
                       layer, reverse=True)


def torch_bidirectional_to_keras(module, prefix=None, layer=0, grad=False, inner=None):
    """A ``bidirectional=True`` RNN/LSTM/GRU -> ``{"forward": {...},
    "backward": {...}}``, or with ``prefix`` (e.g. "bidirectional") one flat
    dict named as seqc names the wrapper's weights:
    ``<prefix>.forward_<inner>.kernel`` ..., where ``inner`` is the wrapped
    layer's name, by default its kind (simple_rnn, lstm or gru); a later
    wrapped LSTM is named e.g. ``lstm_1`` (``seqc check --dump=ir`` lists
    the names).

    >>> import torch
    >>> m = torch.nn.LSTM(3, 2, bidirectional=True)
    >>> sorted(torch_bidirectional_to_keras(m, "bidirectional"))[:2]
    ['bidirectional.backward_lstm.bias', 'bidirectional.backward_lstm.kernel']
    """
    fwd = torch_rnn_to_keras(module, layer, False, grad)
    bwd = torch_rnn_to_keras(module, layer, True, grad)
    if prefix is None:
        return {"forward": fwd, "backward": bwd}
    name = inner or {"rnn": "simple_rnn", "lstm": "lstm", "gru": "gru"}[_kind(module)[0]]
    out = with_prefix("%s.forward_%s" % (prefix, name), fwd)
    out.update(with_prefix("%s.backward_%s" % (prefix, name), bwd))
    return out


def freeze_redundant_biases(module):
    """Zero and freeze (requires_grad=False) every ``bias_hh_*`` of an
    ``nn.RNN``/``nn.LSTM``, leaving b_ih as the single Keras bias. Then a torch
    optimizer updates one bias as Keras does (with both trainable, each gets
    the full gradient and the summed bias moves twice as far). GRUs are left
    alone: both of their biases are Keras parameters (reset_after=True).
    Returns the module."""
    import torch
    if _kind(module)[0] == "gru":
        return module
    for name, p in module.named_parameters():
        if name.startswith("bias_hh"):
            with torch.no_grad():
                getattr(module, "bias_ih" + name[len("bias_hh"):]).add_(p)
                p.zero_()
            p.requires_grad_(False)
    return module


# ---------------------------------------------------------------- programs

def write_npy(path, a):
    """Save ``a`` as .npy for a seqc binary: floats as float32, integers
    (token ids, sparse labels) as int32, C order."""
    a = np.asarray(a)
    a = a.astype(np.int32 if np.issubdtype(a.dtype, np.integer) else np.float32)
    np.save(path, np.require(a, requirements="C"))
    return path


class SeqcError(RuntimeError):
    """A seqc or training-program command failed; ``.stderr`` holds its output."""

    def __init__(self, cmd, rc, stdout, stderr):
        super().__init__("%s exited %d:\n%s%s" % (" ".join(cmd), rc, stdout, stderr))
        self.cmd, self.rc, self.stdout, self.stderr = cmd, rc, stdout, stderr


def _run(cmd, timeout=300):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise SeqcError([str(c) for c in cmd], p.returncode, p.stdout, p.stderr)
    return p.stdout


class SeqcProgram:
    """A seqc training program (``BIN``), driven with numpy arrays.

    Inputs/targets are one array or a dict name -> array; they are written
    as .npy files into ``workdir``. Example (not run here)::

        prog = SeqcProgram.build("seqc", "examples/simple_rnn.seq", "/tmp/w/simple_rnn")
        save_safetensors("/tmp/w/W.safetensors", weights)
        out = prog.predict("/tmp/w/W.safetensors", x)          # {"y_hat": array}
        loss, grads = prog.grad("/tmp/w/W.safetensors", x, y)  # grads keyed as weights
        w2 = prog.train("/tmp/w/W.safetensors", x, y, epochs=1, batch_size=len(x), lr=0.01)
    """

    def __init__(self, path, workdir=None):
        self.path = os.path.abspath(path)
        self.workdir = workdir or os.path.dirname(self.path)
        os.makedirs(self.workdir, exist_ok=True)

    @classmethod
    def build(cls, seqc, seq_file, out, workdir=None):
        """``seqc build seq_file -o out``; raises SeqcError with seqc's
        diagnostics if the model does not compile."""
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        _run([seqc, "build", seq_file, "-o", out])
        return cls(out, workdir)

    def run(self, *args):
        """Run ``BIN args...``; returns stdout, raises SeqcError on failure."""
        return _run([self.path] + list(args))

    def _specs(self, flag, tag, arrays):
        if arrays is None:
            return []
        if not isinstance(arrays, dict):
            return [flag, write_npy(os.path.join(self.workdir, "%s.npy" % tag), arrays)]
        out = []
        for name, a in arrays.items():
            p = write_npy(os.path.join(self.workdir, "%s_%s.npy" % (tag, name)), a)
            out += [flag, "%s=%s" % (name, p)]
        return out

    def predict(self, weights, x, outputs, batch_size=None):
        """Run predict; returns {output name: array}. ``outputs`` lists the
        model's output names (one name: a bare --out path is used)."""
        args = ["predict", "--weights", weights] + self._specs("--x", "x", x)
        paths = {o: os.path.join(self.workdir, "out_%s.npy" % o) for o in outputs}
        if len(outputs) == 1:
            args += ["--out", paths[outputs[0]]]
        else:
            for o, p in paths.items():
                args += ["--out", "%s=%s" % (o, p)]
        n = len(next(iter(x.values())) if isinstance(x, dict) else x)
        args += ["--batch-size", str(batch_size or n)]
        self.run(*args)
        return {o: np.load(p) for o, p in paths.items()}

    def grad(self, weights, x, y):
        """Run grad over all samples as one batch: ``(loss, {param: grad})``."""
        out = os.path.join(self.workdir, "grad.safetensors")
        self.run("grad", "--weights", weights, *self._specs("--x", "x", x),
                 *self._specs("--y", "y", y), "--out", out)
        g, _ = load_safetensors(out)
        return float(g.pop("loss")), g

    def train(self, weights, x, y, epochs=1, batch_size=None, lr=None, seed=1, shuffle=False):
        """``train --load weights --save W2`` for ``epochs``; returns the saved
        tensors (weights and optimizer slots ``optimizer.<slot>.<param>``)."""
        out = os.path.join(self.workdir, "trained.safetensors")
        n = len(next(iter(x.values())) if isinstance(x, dict) else x)
        args = ["train", "--load", weights, "--save", out, "--epochs", str(epochs),
                "--batch-size", str(batch_size or n), "--seed", str(seed), "--quiet"]
        args += self._specs("--x", "x", x) + self._specs("--y", "y", y)
        if lr is not None:
            args += ["--lr", repr(float(lr))]
        if not shuffle:
            args.append("--no-shuffle")
        self.run(*args)
        return load_safetensors(out)[0]


if __name__ == "__main__":   # run the examples above: python3 tools/seqc_torch.py [-v]
    import doctest
    import sys
    try:
        import torch  # noqa: F401
    except ImportError as e:
        sys.exit("FAIL: seqc_torch's examples need torch for %s: %s" % (sys.executable, e))
    sys.exit(1 if doctest.testmod().failed else 0)
