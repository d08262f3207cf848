"""Cross-check: Conv1D padding=same with strides (Keras/TF put the odd pad
element on the RIGHT) vs torch nn.Conv1d with an explicit asymmetric pad."""
import math

import common as c
from common import st, torch

F = torch.nn.functional
# (Cin, filters, kernel_size, strides, activation) of models/conv_same.seq
LAYERS = [(3, 4, 4, 2, torch.relu), (4, 5, 2, 3, torch.tanh), (5, 2, 4, 1, lambda v: v)]


def same_pad(length, k, s, d=1):
    """TF SAME: total P = max((ceil(L/s)-1)*s + d(K-1) + 1 - L, 0); left
    floor(P/2), the rest on the right."""
    p = max((math.ceil(length / s) - 1) * s + d * (k - 1) + 1 - length, 0)
    return p // 2, p - p // 2


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList([torch.nn.Conv1d(ci, f, k, stride=s) for ci, f, k, s, _ in LAYERS])
        self.names = ["conv1d", "conv1d_1", "conv1d_2"]

    def keras(self, grad=False):
        w = {}
        for name, conv in zip(self.names, self.convs):
            w.update(st.with_prefix(name, st.torch_conv1d_to_keras(conv, grad=grad)))
        return w

    def load_keras(self, w):
        for name, conv in zip(self.names, self.convs):
            st.keras_conv1d_to_torch(conv, **st.strip_prefix(name, w))

    def forward(self, x, y):
        h = x["x"].transpose(1, 2)
        for conv, (_, _, k, s, act) in zip(self.convs, LAYERS):
            h = act(conv(F.pad(h, same_pad(h.shape[2], k, s))))
        p = h.transpose(1, 2)
        return {"p": p}, c.mse(p, y["y"])


if __name__ == "__main__":
    a = c.args()
    assert same_pad(13, 4, 2) == (1, 2) and same_pad(7, 2, 3) == (0, 1) and same_pad(3, 4, 1) == (1, 2)
    torch.manual_seed(9)
    r = c.rng(9)
    n = 6
    x = {"x": c.normal(r, n, 13, 3)}
    y = {"y": c.normal(r, n, 3, 2)}
    c.run_case("conv_same", c.model_file("conv_same.seq"), Model(), x, y, a.seqc, a.work).exit()
