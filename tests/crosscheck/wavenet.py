"""Cross-check: examples/wavenet.seq (8 causal dilated Conv1D + relu, then a
1x1 Conv1D) vs torch nn.Conv1d with an explicit left pad of d(K-1)."""
import common as c
from common import st, torch

F = torch.nn.functional
RATES = [1, 2, 4, 8, 1, 2, 4, 8]


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList(
            [torch.nn.Conv1d(1 if i == 0 else 20, 20, 2, dilation=d) for i, d in enumerate(RATES)]
            + [torch.nn.Conv1d(20, 10, 1)])
        for conv in self.convs:   # Keras's glorot_uniform (torch's default init shrinks 8 relu layers)
            f, ci, k = conv.weight.shape
            torch.nn.init.uniform_(conv.weight, -(6 / (k * ci + k * f)) ** 0.5, (6 / (k * ci + k * f)) ** 0.5)

    def names(self):
        return ["conv1d" + ("_%d" % i if i else "") for i in range(len(self.convs))]

    def keras(self, grad=False):
        w = {}
        for name, conv in zip(self.names(), self.convs):
            w.update(st.with_prefix(name, st.torch_conv1d_to_keras(conv, grad=grad)))
        return w

    def load_keras(self, w):
        for name, conv in zip(self.names(), self.convs):
            st.keras_conv1d_to_torch(conv, **st.strip_prefix(name, w))

    def forward(self, x, y):
        h = x["x"].transpose(1, 2)                          # Keras [B, L, C] -> torch [B, C, L]
        for conv, d in zip(self.convs, RATES):
            h = torch.relu(conv(F.pad(h, (d * (2 - 1), 0))))   # causal: left pad d(K-1)
        p = self.convs[-1](h).transpose(1, 2)
        return {"y_hat": p}, c.mse(p, y["y"])


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(8)
    r = c.rng(8)
    n, t = 6, 40                                            # longer than the receptive field (31)
    x = {"x": c.normal(r, n, t, 1)}
    y = {"y": c.normal(r, n, t, 10)}
    c.run_case("wavenet", c.example("wavenet.seq"), Model(), x, y, a.seqc, a.work).exit()
