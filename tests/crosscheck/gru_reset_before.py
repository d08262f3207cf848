"""Cross-check: GRU(reset_after=false) vs a GRU cell written by hand in
torch (nn.GRU has no such variant), parameters held in Keras layout:
  z = sigmoid(x W_z + h U_z + b_z), r = sigmoid(x W_r + h U_r + b_r),
  n = tanh(x W_h + (r*h) U_h + b_h), h' = z*h + (1-z)*n."""
import common as c
from common import st, torch


class GRUResetBefore(torch.nn.Module):
    def __init__(self, d, u):
        super().__init__()
        lim = (6 / (d + 3 * u)) ** 0.5
        self.kernel = torch.nn.Parameter(torch.empty(d, 3 * u).uniform_(-lim, lim))
        self.recurrent_kernel = torch.nn.Parameter(torch.linalg.qr(torch.randn(3 * u, u))[0].T.contiguous())
        self.bias = torch.nn.Parameter(torch.zeros(3 * u))
        self.u = u

    def forward(self, x):
        u, h, out = self.u, x.new_zeros(x.shape[0], self.u), []
        xw = x @ self.kernel + self.bias                     # [B, T, 3u]: z, r, h blocks
        for t in range(x.shape[1]):
            hz, hr = (h @ self.recurrent_kernel[:, :2 * u]).split(u, -1)
            z = torch.sigmoid(xw[:, t, :u] + hz)
            r = torch.sigmoid(xw[:, t, u:2 * u] + hr)
            n = torch.tanh(xw[:, t, 2 * u:] + (r * h) @ self.recurrent_kernel[:, 2 * u:])
            h = z * h + (1 - z) * n
            out.append(h)
        return torch.stack(out, 1)


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.gru = GRUResetBefore(4, 6)
        self.dense = torch.nn.Linear(6, 3)

    def keras(self, grad=False):
        g = self.gru
        w = {"gru." + k: (p.grad if grad else p).detach().numpy().astype("float32")
             for k, p in (("kernel", g.kernel), ("recurrent_kernel", g.recurrent_kernel), ("bias", g.bias))}
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        with torch.no_grad():
            for k, v in st.strip_prefix("gru", w).items():
                getattr(self.gru, k).copy_(torch.as_tensor(v))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        p = self.dense(self.gru(x["x"]))
        return {"p": p}, c.mse(p, y["y"])


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(5)
    r = c.rng(5)
    n, t = 8, 10
    x = {"x": c.normal(r, n, t, 4)}
    y = {"y": c.normal(r, n, t, 3)}
    c.run_case("gru_reset_before", c.model_file("gru_reset_before.seq"), Model(), x, y,
               a.seqc, a.work).exit()
