"""Cross-check: examples/attention.seq, the seed's AttentionLayer
(KERAS-SEMANTICS.md 6.1), written by hand in torch:
  e = V(tanh(W1(q) + W2(values)))  [B, Tv, 1]  (q [B, 1, Hq] broadcasts over Tv)
  a = softmax(e, axis=1)  (over time);  context = sum_t a * values  [B, Hv]."""
import common as c
from common import st, torch


class AttentionLayer(torch.nn.Module):
    def __init__(self, hq, hv, units):
        super().__init__()
        self.W1 = torch.nn.Linear(hq, units)
        self.W2 = torch.nn.Linear(hv, units)
        self.V = torch.nn.Linear(units, 1)

    def forward(self, query, values):
        e = self.V(torch.tanh(self.W1(query) + self.W2(values)))
        if e.requires_grad:
            e.retain_grad()
            self.e = e
        a = torch.softmax(e, dim=1)
        return (a * values).sum(1), a


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.att = AttentionLayer(64, 64, 10)

    def keras(self, grad=False):
        w = {}
        for name in ("W1", "W2", "V"):
            w.update(st.with_prefix("attention_layer." + name,
                                    st.torch_dense_to_keras(getattr(self.att, name), grad=grad)))
        return w

    def load_keras(self, w):
        for name in ("W1", "W2", "V"):
            st.keras_dense_to_torch(getattr(self.att, name), **st.strip_prefix("attention_layer." + name, w))

    def grad_scales(self):
        # dL/dV.bias = sum over b, t of dL/de: exactly 0 (the softmax is
        # shift-invariant), so its float32 value is round-off of a sum whose
        # terms have size |dL/de|.
        return {"attention_layer.V.bias": float(self.att.e.grad.abs().sum())}

    def forward(self, x, y):
        context, weights = self.att(x["query"], x["values"])
        return {"context": context, "weights": weights}, c.mse(context, y["wanted"])


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(10)
    r = c.rng(10)
    n = 8
    x = {"query": c.normal(r, n, 1, 64), "values": c.normal(r, n, 10, 64)}
    y = {"wanted": c.normal(r, n, 64)}
    c.run_case("attention", c.example("attention.seq"), Model(), x, y, a.seqc, a.work).exit()
