"""Cross-check: keras.layers.Attention and AdditiveAttention
(KERAS-SEMANTICS.md 6.2, 6.3) after Dense projections (so gradients reach
parameters), written from the formulas in torch:

  Attention:          scores = Q K^T, times the scalar ``scale`` if use_scale
  AdditiveAttention:  scores[b,i,j] = sum_d scale_d tanh(q[b,i,d] + k[b,j,d])
                      (scale_d = 1 without use_scale)
  use_causal_mask:    scores[i, j] -= 1e9 where j > i (Tq x Tv)
  weights = softmax over the value steps (last axis); out = weights V;
  return_attention_scores returns the weights. The key defaults to the value.

attention_dot: a1 = Attention()([qp, vp]); a2 = Attention(use_scale) with a
separate key, weights returned; a3 = Attention(use_causal_mask), weights
returned. attention_additive: b1 = AdditiveAttention() (use_scale=true,
scale [d]); b2 = use_scale=false with a separate key, weights returned.
Tq = 5, Tv = 7 (causal: query step i sees value steps 0..i)."""
import common as c
from common import np, st, torch


def dot_attention(q, v, k=None, scale=None, causal=False):
    k = v if k is None else k
    s = q @ k.transpose(1, 2)
    if scale is not None:
        s = s * scale
    if causal:
        tq, tv = s.shape[1], s.shape[2]
        allowed = torch.arange(tq)[:, None] >= torch.arange(tv)[None, :]
        s = s - 1e9 * (~allowed).to(s.dtype)
    w = torch.softmax(s, dim=-1)
    return w @ v, w


def additive_attention(q, v, k=None, scale=None):
    k = v if k is None else k
    t = torch.tanh(q[:, :, None, :] + k[:, None, :, :])     # [B, Tq, Tv, d]
    s = (t * scale).sum(-1) if scale is not None else t.sum(-1)
    w = torch.softmax(s, dim=-1)
    return w @ v, w


class Projections(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.dq = torch.nn.Linear(4, 6)
        self.dv = torch.nn.Linear(5, 6)
        self.dk = torch.nn.Linear(5, 6)

    def _dense(self):
        return (("dense", self.dq), ("dense_1", self.dv), ("dense_2", self.dk))

    def keras(self, grad=False):
        w = {}
        for name, m in self._dense():
            w.update(st.with_prefix(name, st.torch_dense_to_keras(m, grad=grad)))
        for name, p in self._scales():
            w[name] = st._val(p, grad)
        return w

    def load_keras(self, w):
        for name, m in self._dense():
            st.keras_dense_to_torch(m, **st.strip_prefix(name, w))
        for name, p in self._scales():
            st._copy(p, w[name])


class DotModel(Projections):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.7))   # Keras init 1: not trivial here

    def _scales(self):
        return (("attention_1.scale", self.scale),)

    def grad_scales(self):
        # The key's bias adds q_i . b to every score of query step i: a
        # shift over the value steps, which the softmax ignores, so
        # dL/d(dense_2.bias) = sum over b, j of dL/dk[b, j] is exactly 0 and
        # its float32 value is round-off of a sum of terms of size |dL/dk|.
        return {"dense_2.bias": float(self.kp.grad.abs().sum((0, 1)).max())}

    def forward(self, x, y):
        qp, vp, kp = self.dq(x["q"]), self.dv(x["v"]), self.dk(x["v"])
        if kp.requires_grad:
            kp.retain_grad()
            self.kp = kp
        a1, _ = dot_attention(qp, vp)
        a2, w2 = dot_attention(qp, vp, kp, scale=self.scale)
        a3, w3 = dot_attention(qp, vp, causal=True)
        loss = c.mse(a1, y["y1"]) + c.mse(a2, y["y2"]) + c.mse(a3, y["y3"])
        return {"w2": w2, "w3": w3, "a1": a1, "a2": a2, "a3": a3}, loss


class AdditiveModel(Projections):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.empty(6).uniform_(-0.7, 0.7))

    def _scales(self):
        return (("additive_attention.scale", self.scale),)

    def forward(self, x, y):
        qp, vp, kp = self.dq(x["q"]), self.dv(x["v"]), self.dk(x["v"])
        b1, _ = additive_attention(qp, vp, scale=self.scale)
        b2, w2 = additive_attention(qp, vp, kp)
        loss = c.mse(b1, y["y1"]) + c.mse(b2, y["y2"])
        return {"w2": w2, "b1": b1, "b2": b2}, loss


if __name__ == "__main__":
    a = c.args()
    rep = c.Report("keras_attention")
    n, tq, tv = 6, 5, 7
    r = c.rng(41)
    x = {"q": c.normal(r, n, tq, 4), "v": c.normal(r, n, tv, 5)}
    y = {"y%d" % i: c.normal(r, n, tq, 6, scale=0.5) for i in (1, 2, 3)}
    torch.manual_seed(41)
    c.run_case(rep, c.model_file("attention_dot.seq"), DotModel(), x, y, a.seqc, a.work,
               tag="attention_dot")
    torch.manual_seed(42)
    c.run_case(rep, c.model_file("attention_additive.seq"), AdditiveModel(), x,
               {"y1": y["y1"], "y2": y["y2"]}, a.seqc, a.work, tag="attention_additive")
    rep.exit()
