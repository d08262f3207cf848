"""Cross-check: Bidirectional(LSTM, concat, whole sequence) ->
Bidirectional(GRU, concat, last step) -> Dense vs torch bidirectional=True
(the *_reverse parameters are Keras's backward layer)."""
import common as c
from common import st, torch


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 5, batch_first=True, bidirectional=True)
        self.gru = torch.nn.GRU(10, 4, batch_first=True, bidirectional=True)
        self.dense = torch.nn.Linear(8, 3)

    def keras(self, grad=False):
        w = st.torch_bidirectional_to_keras(self.lstm, "bidirectional", grad=grad)
        w.update(st.torch_bidirectional_to_keras(self.gru, "bidirectional_1", grad=grad))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_bidirectional_to_torch(self.lstm, st.strip_prefix("bidirectional.forward_lstm", w),
                                        st.strip_prefix("bidirectional.backward_lstm", w))
        st.keras_bidirectional_to_torch(self.gru, st.strip_prefix("bidirectional_1.forward_gru", w),
                                        st.strip_prefix("bidirectional_1.backward_gru", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        s, _ = self.lstm(x["x"])                    # [B, T, 2u], reverse half in time order
        o, _ = self.gru(s)
        # Keras return_sequences=False: forward's last step, backward's
        # output after reading step 0 (torch's reverse output at t = 0).
        h = torch.cat([o[:, -1, :4], o[:, 0, 4:]], -1)
        p = self.dense(h)
        return {"p": p}, c.mse(p, y["y"])


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(11)
    r = c.rng(11)
    n, t = 8, 9
    x = {"x": c.normal(r, n, t, 4)}
    y = {"y": c.normal(r, n, 3)}
    c.run_case("bidirectional", c.model_file("bidirectional.seq"), Model(), x, y, a.seqc, a.work).exit()
