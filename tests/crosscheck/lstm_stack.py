"""Cross-check: examples/lstm_stack.seq (LSTM(64, seq) -> LSTM(32) -> Dense(1),
mse) vs torch nn.LSTM."""
import common as c
from common import st, torch


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(10, 64, batch_first=True)
        self.lstm_1 = torch.nn.LSTM(64, 32, batch_first=True)
        self.dense = torch.nn.Linear(32, 1)

    def keras(self, grad=False):
        w = st.with_prefix("lstm", st.torch_lstm_to_keras(self.lstm, grad=grad))
        w.update(st.with_prefix("lstm_1", st.torch_lstm_to_keras(self.lstm_1, grad=grad)))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_lstm_to_torch(self.lstm, **st.strip_prefix("lstm", w))
        st.keras_lstm_to_torch(self.lstm_1, **st.strip_prefix("lstm_1", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        h, _ = self.lstm(x["x"])
        h, _ = self.lstm_1(h)
        p = self.dense(h[:, -1])
        return {"y_hat": p}, c.mse(p, y["y"])


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(2)
    r = c.rng(2)
    n, t = 8, 12
    x = {"x": c.normal(r, n, t, 10)}
    y = {"y": c.normal(r, n, 1)}
    c.run_case("lstm_stack", c.example("lstm_stack.seq"), Model(), x, y, a.seqc, a.work).exit()
