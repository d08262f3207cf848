"""Cross-check: masked, right-padded variable-length batches
(KERAS-SEMANTICS.md section 2 masking, section 5, section 7 masked loss) vs
torch running every sample at its own length (``common.run_per_sample``):

* masked_lstm: Embedding(mask_zero) -> LSTM(return_sequences) -> Dense
  logits, sparse CE from logits. At a padded step the LSTM repeats its last
  valid output (so the logits there are Dense of it) and the loss is the
  mean over the valid positions only; targets at padded steps are random.
* masked_gru: Masking -> GRU (last output) -> Dense, mse: the GRU's output
  is its state at each sample's last valid step; masked_gru_empty adds a
  sample that is all padding (its GRU output stays the zero state).
* masked_bidi: Masking -> Bidirectional(LSTM(return_sequences)) -> Dense,
  mse over valid positions: zeros at padded steps in both halves, the
  backward half starting at each sample's last valid step."""
import common as c
from common import np, st, torch


class MaskedLSTM(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(11, 6)
        self.lstm = torch.nn.LSTM(6, 7, batch_first=True)
        self.dense = torch.nn.Linear(7, 5)

    def keras(self, grad=False):
        w = st.with_prefix("embedding", st.torch_embedding_to_keras(self.emb, grad=grad))
        w.update(st.with_prefix("lstm", st.torch_lstm_to_keras(self.lstm, grad=grad)))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_embedding_to_torch(self.emb, **st.strip_prefix("embedding", w))
        st.keras_lstm_to_torch(self.lstm, **st.strip_prefix("lstm", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        ids = x["ids"]
        mask = ids != 0
        h, _ = c.run_per_sample(self.lstm, self.emb(ids), c.right_padded_lengths(mask), "repeat")
        z = self.dense(h)
        ce = torch.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), y["next"].reshape(-1),
                                               reduction="none").reshape(mask.shape)
        return {"logits": z}, c.masked_mean(ce, mask)


class MaskedLSTMHoles(MaskedLSTM):
    """The same model with the mask applied step by step as Keras writes it
    (section 2), for ids with 0s anywhere (leading, inside, trailing):
    state_t = m_t ? new : state_{t-1}, out_t = m_t ? new_out : out_{t-1},
    out_{-1} = 0."""

    def forward(self, x, y):
        ids = x["ids"]
        mask = ids != 0
        e = self.emb(ids)
        b, t = ids.shape
        h = e.new_zeros(1, b, 7)
        cs, out, outs = e.new_zeros(1, b, 7), e.new_zeros(b, 7), []
        for s in range(t):
            o, (h2, c2) = self.lstm(e[:, s:s + 1], (h, cs))
            m = mask[:, s][None, :, None]
            h, cs = torch.where(m, h2, h), torch.where(m, c2, cs)
            out = torch.where(m[0], o[:, 0], out)
            outs.append(out)
        z = self.dense(torch.stack(outs, 1))
        ce = torch.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), y["next"].reshape(-1),
                                               reduction="none").reshape(mask.shape)
        return {"logits": z}, c.masked_mean(ce, mask)


class MaskedGRU(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(4, 6, batch_first=True)
        self.dense = torch.nn.Linear(6, 3)

    def keras(self, grad=False):
        w = st.with_prefix("gru", st.torch_gru_to_keras(self.gru, grad=grad))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_gru_to_torch(self.gru, **st.strip_prefix("gru", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        xx = x["x"]
        _, last = c.run_per_sample(self.gru, xx, c.right_padded_lengths((xx != 0).any(-1)), "repeat")
        p = self.dense(last[0])
        return {"p": p}, c.mse(p, y["y"])


class MaskedBidi(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 5, batch_first=True, bidirectional=True)
        self.dense = torch.nn.Linear(10, 3)

    def keras(self, grad=False):
        w = st.torch_bidirectional_to_keras(self.lstm, "bidirectional", grad=grad)
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_bidirectional_to_torch(self.lstm, st.strip_prefix("bidirectional.forward_lstm", w),
                                        st.strip_prefix("bidirectional.backward_lstm", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        xx = x["x"]
        mask = (xx != 0).any(-1)
        # torch's reverse direction on the unpadded sample starts at its last
        # valid step and is already in input order: Keras's flipped-back half.
        h, _ = c.run_per_sample(self.lstm, xx, c.right_padded_lengths(mask), "zero")
        p = self.dense(h)
        return {"p": p}, c.masked_mean(((p - y["y"]) ** 2).mean(-1), mask)


def padded_floats(r, lengths, t, d):
    x = c.normal(r, len(lengths), t, d)
    for i, k in enumerate(lengths):
        x[i, k:] = 0.0
    return x


if __name__ == "__main__":
    a = c.args()
    rep = c.Report("masked")

    r = c.rng(21)
    lengths = [9, 5, 1, 7, 3, 9, 2, 6]      # batches of 3 in (d): max 9, 9, 6
    t = 9
    ids = r.integers(1, 11, size=(len(lengths), t)).astype("int32")
    for i, k in enumerate(lengths):
        ids[i, k:] = 0
    nxt = r.integers(0, 5, size=(len(lengths), t)).astype("int32")   # padded steps: arbitrary
    torch.manual_seed(21)
    c.run_case(rep, c.model_file("masked_lstm.seq"), MaskedLSTM(), {"ids": ids}, {"next": nxt},
               a.seqc, a.work, tag="masked_lstm")

    # Not right-padded: 0s at the start, inside and at the end (Keras masks
    # them all the same way).
    r = c.rng(25)
    ids = r.integers(1, 11, size=(6, 8)).astype("int32")
    ids[0, 2] = ids[1, 0] = ids[3, 7] = 0
    ids[1, 5:] = ids[2, 3:5] = ids[4, :3] = 0
    nxt = r.integers(0, 5, size=(6, 8)).astype("int32")
    torch.manual_seed(25)
    c.run_case(rep, c.model_file("masked_lstm.seq"), MaskedLSTMHoles(), {"ids": ids}, {"next": nxt},
               a.seqc, a.work, tag="masked_lstm_holes")

    r = c.rng(22)
    lengths = [7, 3, 1, 5, 7, 2, 6, 4]
    x = {"x": padded_floats(r, lengths, 7, 4)}
    y = {"y": c.normal(r, len(lengths), 3)}
    torch.manual_seed(22)
    c.run_case(rep, c.model_file("masked_gru.seq"), MaskedGRU(), x, y, a.seqc, a.work, tag="masked_gru")
    lengths = [6, 0, 3, 6, 1, 4]
    x = {"x": padded_floats(r, lengths, 6, 4)}
    y = {"y": c.normal(r, len(lengths), 3)}
    torch.manual_seed(23)
    c.run_case(rep, c.model_file("masked_gru.seq"), MaskedGRU(), x, y, a.seqc, a.work,
               tag="masked_gru_empty")

    r = c.rng(24)
    lengths = [8, 3, 1, 6, 8, 2, 5, 4]
    x = {"x": padded_floats(r, lengths, 8, 4)}
    y = {"y": c.normal(r, len(lengths), 8, 3)}
    torch.manual_seed(24)
    c.run_case(rep, c.model_file("masked_bidi.seq"), MaskedBidi(), x, y, a.seqc, a.work,
               tag="masked_bidi")
    rep.exit()
