"""Cross-check: outputs and targets on a time axis that valid convolutions
shorten (T-5 here), predicted and trained in several batches, the last one
partial; tests/models/conv.seq's outputs predicted in batches of 4 of 10
samples; a target of the wrong length refused with both shapes named."""
import math
import os

import common as c
from common import np, st, torch

F = torch.nn.functional


def same_pad(length, k, s, d=1):
    """TF SAME: total P = max((ceil(L/s)-1)*s + d(K-1) + 1 - L, 0), the odd
    element on the right (as conv_same.py)."""
    p = max((math.ceil(length / s) - 1) * s + d * (k - 1) + 1 - length, 0)
    return p // 2, p - p // 2


class ConvValid(c.KerasModel):
    """models/conv_valid.seq"""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv1d(3, 4, 3, dilation=2)
        self.p = torch.nn.Conv1d(4, 2, 2)

    def keras(self, grad=False):
        w = st.with_prefix("conv1d", st.torch_conv1d_to_keras(self.a, grad=grad))
        w.update(st.with_prefix("conv1d_1", st.torch_conv1d_to_keras(self.p, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_conv1d_to_torch(self.a, **st.strip_prefix("conv1d", w))
        st.keras_conv1d_to_torch(self.p, **st.strip_prefix("conv1d_1", w))

    def forward(self, x, y):
        p = self.p(torch.tanh(self.a(x["x"].transpose(1, 2)))).transpose(1, 2)
        return {"p": p}, c.mse(p, y["y"])


# tests/models/conv.seq: (Cin, filters, K, stride, dilation, padding, activation)
CONV = [(3, 4, 3, 1, 2, "causal", torch.relu), (4, 5, 2, 1, 1, "valid", torch.tanh),
        (5, 3, 1, 1, 1, "valid", lambda v: v), (2, 4, 3, 2, 1, "same", lambda v: v),
        (4, 2, 2, 3, 1, "valid", lambda v: v), (2, 3, 4, 1, 1, "same", torch.sigmoid),
        (5, 3, 3, 2, 1, "valid", torch.tanh), (3, 2, 2, 3, 1, "same", lambda v: v)]


def conv_seq_outputs(convs, x, f):
    """c, e, g, k of tests/models/conv.seq in float64."""
    def run(i, h):
        _, _, k, s, d, pad, act = CONV[i]
        if pad == "causal":
            h = F.pad(h, (d * (k - 1), 0))
        elif pad == "same":
            h = F.pad(h, same_pad(h.shape[2], k, s, d))
        return act(convs[i](h))
    b = run(1, run(0, x.transpose(1, 2)))
    e = run(4, run(3, f.transpose(1, 2)))
    g = run(5, f.transpose(1, 2))
    k = run(7, run(6, b))
    return {n: v.transpose(1, 2).numpy() for n, v in (("c", run(2, b)), ("e", e), ("g", g), ("k", k))}


def check_conv_seq(rep, seqc, work):
    """predict of conv.seq, 10 samples in batches of 4: every output row in
    its place, c as [N, T-1, 3] and k as [N, (T+2)/6, 2]."""
    d = os.path.join(work, "conv_valid_conv_seq")
    prog = st.SeqcProgram.build(seqc, os.path.join(c.ROOT, "tests", "models", "conv.seq"),
                                os.path.join(d, "model"))
    torch.manual_seed(3)
    convs = [torch.nn.Conv1d(ci, fo, k, stride=s, dilation=dl, bias=(i != 4))
             for i, (ci, fo, k, s, dl, _, _) in enumerate(CONV)]
    names = ["conv1d"] + ["conv1d_%d" % i for i in range(1, len(CONV))]
    w = {}
    for name, conv in zip(names, convs):
        w.update(st.with_prefix(name, st.torch_conv1d_to_keras(conv)))
    w = {k: np.asarray(v, np.float32) for k, v in w.items()}
    for name, conv in zip(names, convs):
        st.keras_conv1d_to_torch(conv, **st.strip_prefix(name, w))
        conv.double()
    wpath = os.path.join(d, "W.safetensors")
    st.save_safetensors(wpath, w, {"format": "seqc-1"}, checksum=True)
    r = c.rng(4)
    x = {"x": c.normal(r, 10, 11, 3), "f": c.normal(r, 10, 9, 2)}
    with torch.no_grad():
        want = conv_seq_outputs(convs, torch.as_tensor(x["x"], dtype=torch.float64),
                                torch.as_tensor(x["f"], dtype=torch.float64))
    assert want["c"].shape == (10, 10, 3) and want["k"].shape == (10, 2, 2)
    got = prog.predict(wpath, x, ["c", "e", "g", "k"], batch_size=4)
    rep.group("conv.seq", {k: (got[k], want[k]) for k in want})
    text = prog.run("--help")
    for s in ("outputs  c                [N, T-1, 3] float32", "k                [N, (T+2)/6, 2] float32"):
        if s not in text:
            rep.fail("conv --help lacks %r:\n%s" % (s, text))


def check_wrong_target(rep, prog, wpath, x, y):
    """A target one step too long: an error naming both shapes."""
    bad = np.concatenate([y, y[:, :1]], axis=1)
    try:
        prog.run("train", "--load", wpath, *prog._specs("--x", "bx", {"x": x}),
                 *prog._specs("--y", "by", {"y": bad}), "--epochs", "1")
    except st.SeqcError as e:
        msg = e.stderr.strip()
        want = ("[N, T-5, 2]", "T = 13", "[7, 8, 2]", "[7, 9, 2]")
        ok = all(s in msg for s in want) and "\n" not in msg
        print("  error    %s" % msg)
        if not ok:
            rep.fail("the wrong-length target's error does not name %s" % (want,))
        return
    rep.fail("train accepted a target of [7, 9, 2] for y : [T-5, 2] with T = 13")


def check_help(rep, prog):
    """The data block of --help names the shortened axes."""
    text = prog.run("--help")
    for s in ("targets  y                [N, T-5, 2] float32",
              "outputs  p                [N, T-5, 2] float32"):
        if s not in text:
            rep.fail("BIN --help lacks %r:\n%s" % (s, text))


if __name__ == "__main__":
    a = c.args()
    r = c.rng(7)
    n = 7   # train's batches of 3 end with a partial one
    x = {"x": c.normal(r, n, 13, 3)}
    y = {"y": c.normal(r, n, 8, 2)}
    rep = c.Report("conv_valid")
    try:
        check_conv_seq(rep, a.seqc, a.work)
    except st.SeqcError as e:
        rep.fail(e.stderr.strip() or str(e))
    torch.manual_seed(7)
    c.run_case(rep, c.model_file("conv_valid.seq"), ConvValid(), x, y, a.seqc, a.work, tag="conv_valid")
    if rep.failed:
        rep.exit()
    prog = st.SeqcProgram(os.path.join(a.work, "conv_valid", "model"))
    try:
        model = ConvValid()
        model.load_keras(st.load_safetensors(os.path.join(a.work, "conv_valid", "W.safetensors"))[0])
        with torch.no_grad():
            want, _ = model.double()({"x": torch.as_tensor(x["x"], dtype=torch.float64)},
                                     {"y": torch.as_tensor(y["y"], dtype=torch.float64)})
        got = prog.predict(os.path.join(a.work, "conv_valid", "W.safetensors"), x, ["p"], batch_size=3)
        rep.group("predict3", {"p": (got["p"], want["p"].numpy())})
        check_help(rep, prog)
        check_wrong_target(rep, prog, os.path.join(a.work, "conv_valid", "W.safetensors"),
                           x["x"], y["y"])
    except st.SeqcError as e:
        rep.fail(e.stderr.strip() or str(e))
    rep.exit()
