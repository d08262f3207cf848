"""Cross-check: time direction (KERAS-SEMANTICS.md sections 2 and 5) vs torch.

* go_backwards (tests/crosscheck/models/go_backwards.seq): SimpleRNN, LSTM
  and GRU with go_backwards=true and return_sequences, NOT in a
  Bidirectional: they read the input from the last step to the first and
  return the outputs in processing order (out[:, j] belongs to input step
  T-1-j), i.e. torch run on the time-flipped input, not flipped back; and an
  LSTM(go_backwards) without return_sequences (its state after reading step
  0) into a Dense.
* bidi_merge (models/bidi_merge.seq): Bidirectional merge modes sum
  (SimpleRNN), mul (GRU), ave (LSTM) and None (LSTM: the two halves as two
  outputs), all with return_sequences (the backward half flipped back to
  input order, torch's reverse direction as it comes), and a Bidirectional
  LSTM with return_state: out (concat of forward's last output and
  backward's output after reading step 0), h_f, c_f, h_b, c_b (torch's
  h_n/c_n, index 0 forward, 1 reverse), all into one Dense."""
import common as c
from common import st, torch


def rnn_keras(m, prefix, grad):
    return st.with_prefix(prefix, st.torch_rnn_to_keras(m, grad=grad))


class GoBackwards(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 4, batch_first=True)
        self.lstm = torch.nn.LSTM(3, 4, batch_first=True)
        self.gru = torch.nn.GRU(3, 4, batch_first=True)
        self.lstm_1 = torch.nn.LSTM(3, 3, batch_first=True)
        self.dense = torch.nn.Linear(3, 2)

    def _rnns(self):
        return (("simple_rnn", self.rnn), ("lstm", self.lstm), ("gru", self.gru), ("lstm_1", self.lstm_1))

    def keras(self, grad=False):
        w = {}
        for name, m in self._rnns():
            w.update(rnn_keras(m, name, grad))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        for name, m in self._rnns():
            st.keras_rnn_to_torch(m, **st.strip_prefix(name, w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        xr = torch.flip(x["x"], [1])          # processing order; outputs stay in it
        a, b, cc = self.rnn(xr)[0], self.lstm(xr)[0], self.gru(xr)[0]
        d = self.dense(self.lstm_1(xr)[0][:, -1])
        loss = c.mse(a, y["ya"]) + c.mse(b, y["yb"]) + c.mse(cc, y["yc"]) + c.mse(d, y["yd"])
        return {"a": a, "b": b, "c": cc, "d": d}, loss


class BidiMerge(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 4, batch_first=True, bidirectional=True)
        self.gru = torch.nn.GRU(3, 4, batch_first=True, bidirectional=True)
        self.lstm = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True)
        self.lstm_1 = torch.nn.LSTM(3, 3, batch_first=True, bidirectional=True)
        self.lstm_2 = torch.nn.LSTM(3, 3, batch_first=True, bidirectional=True)
        self.dense = torch.nn.Linear(18, 2)

    def _bidis(self):
        return (("bidirectional", "simple_rnn", self.rnn), ("bidirectional_1", "gru", self.gru),
                ("bidirectional_2", "lstm", self.lstm), ("bidirectional_3", "lstm_1", self.lstm_1),
                ("bidirectional_4", "lstm_2", self.lstm_2))

    def keras(self, grad=False):
        w = {}
        for prefix, inner, m in self._bidis():
            w.update(st.torch_bidirectional_to_keras(m, prefix, grad=grad, inner=inner))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        for prefix, inner, m in self._bidis():
            st.keras_bidirectional_to_torch(m, st.strip_prefix("%s.forward_%s" % (prefix, inner), w),
                                            st.strip_prefix("%s.backward_%s" % (prefix, inner), w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        xx = x["x"]
        o1, o2, o3, o4 = self.rnn(xx)[0], self.gru(xx)[0], self.lstm(xx)[0], self.lstm_1(xx)[0]
        s1 = o1[..., :4] + o1[..., 4:]
        s2 = o2[..., :4] * o2[..., 4:]
        s3 = (o3[..., :4] + o3[..., 4:]) / 2
        f4, b4 = o4[..., :3], o4[..., 3:]
        o, (h, cs) = self.lstm_2(xx)
        o5 = torch.cat([o[:, -1, :3], o[:, 0, 3:]], -1)
        hf, cf, hb, cb = h[0], cs[0], h[1], cs[1]
        p6 = self.dense(torch.cat([o5, hf, cf, hb, cb], -1))
        loss = (c.mse(s1, y["y1"]) + c.mse(s2, y["y2"]) + c.mse(s3, y["y3"]) + c.mse(f4, y["y4"])
                + c.mse(b4, y["y5"]) + c.mse(p6, y["y6"]))
        return {"hf": hf, "cf": cf, "hb": hb, "cb": cb, "s1": s1, "s2": s2, "s3": s3,
                "f4": f4, "b4": b4, "p6": p6}, loss


if __name__ == "__main__":
    a = c.args()
    rep = c.Report("directions")
    n, t = 7, 6
    r = c.rng(51)
    x = {"x": c.normal(r, n, t, 3)}
    y = {"ya": c.normal(r, n, t, 4, scale=0.5), "yb": c.normal(r, n, t, 4, scale=0.5),
         "yc": c.normal(r, n, t, 4, scale=0.5), "yd": c.normal(r, n, 2)}
    torch.manual_seed(51)
    c.run_case(rep, c.model_file("go_backwards.seq"), GoBackwards(), x, y, a.seqc, a.work,
               tag="go_backwards")
    y = {"y1": c.normal(r, n, t, 4, scale=0.5), "y2": c.normal(r, n, t, 4, scale=0.5),
         "y3": c.normal(r, n, t, 4, scale=0.5), "y4": c.normal(r, n, t, 3, scale=0.5),
         "y5": c.normal(r, n, t, 3, scale=0.5), "y6": c.normal(r, n, 2)}
    torch.manual_seed(52)
    c.run_case(rep, c.model_file("bidi_merge.seq"), BidiMerge(), x, y, a.seqc, a.work,
               tag="bidi_merge")
    rep.exit()
