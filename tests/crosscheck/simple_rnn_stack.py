"""Cross-check: two stacked SimpleRNNs + Dense heads vs torch nn.RNN(tanh)."""
import common as c
from common import st, torch


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(6, 8, batch_first=True)
        self.rnn_1 = torch.nn.RNN(8, 5, batch_first=True)
        self.dense = torch.nn.Linear(8, 2)
        self.dense_1 = torch.nn.Linear(5, 3)

    def keras(self, grad=False):
        w = st.with_prefix("simple_rnn", st.torch_simple_rnn_to_keras(self.rnn, grad=grad))
        w.update(st.with_prefix("simple_rnn_1", st.torch_simple_rnn_to_keras(self.rnn_1, grad=grad)))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        w.update(st.with_prefix("dense_1", st.torch_dense_to_keras(self.dense_1, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_simple_rnn_to_torch(self.rnn, **st.strip_prefix("simple_rnn", w))
        st.keras_simple_rnn_to_torch(self.rnn_1, **st.strip_prefix("simple_rnn_1", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))
        st.keras_dense_to_torch(self.dense_1, **st.strip_prefix("dense_1", w))

    def forward(self, x, y):
        h1, _ = self.rnn(x["x"])
        h2, _ = self.rnn_1(h1)
        ps = self.dense(h1)
        p = torch.tanh(self.dense_1(h2[:, -1]))
        return {"ps": ps, "p": p}, 0.5 * c.mse(ps, y["ys"]) + c.mse(p, y["y"])


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(1)
    r = c.rng(1)
    n, t = 6, 9
    x = {"x": c.normal(r, n, t, 6)}
    y = {"ys": c.normal(r, n, t, 2), "y": c.normal(r, n, 3, scale=0.5)}
    c.run_case("simple_rnn_stack", c.model_file("simple_rnn_stack.seq"), Model(), x, y,
               a.seqc, a.work).exit()
