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
  backward half starting at each sample's last valid step.
* masked_add, masked_merge, masked_join, masked_bidi_none: merges combine
  masks (Keras's _Merge and Concatenate compute_mask: the AND of the
  inputs' masks, joined along time by Concatenate(axis=1)), and
  Bidirectional(merge_mode=None) gives both sequences the mask."""
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
        h, _ = c.masked_steps(self.lstm, self.emb(ids), mask)
        z = self.dense(h)
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



def keras_layers(named, grad=False):
    """{seqc name: torch module} -> Keras-layout weights (or gradients)."""
    conv = {torch.nn.Embedding: st.torch_embedding_to_keras, torch.nn.LSTM: st.torch_lstm_to_keras,
            torch.nn.Linear: st.torch_dense_to_keras}
    w = {}
    for name, mod in named.items():
        w.update(st.with_prefix(name, conv[type(mod)](mod, grad=grad)))
    return w


def load_keras_layers(named, w):
    conv = {torch.nn.Embedding: st.keras_embedding_to_torch, torch.nn.LSTM: st.keras_lstm_to_torch,
            torch.nn.Linear: st.keras_dense_to_torch}
    for name, mod in named.items():
        conv[type(mod)](mod, **st.strip_prefix(name, w))


class Layers(c.KerasModel):
    """A model of named Embedding/LSTM/Linear layers (``self.named``)."""

    def keras(self, grad=False):
        return keras_layers(self.named, grad)

    def load_keras(self, w):
        load_keras_layers(self.named, w)


def masked_mse(p, y, mask):
    return c.masked_mean(((p - y) ** 2).mean(-1), mask)


class MaskedAdd(Layers):
    """masked_add.seq: Add()([e, e]) keeps e's mask; the LSTM skips padding."""

    def __init__(self):
        super().__init__()
        self.emb, self.lstm, self.dense = torch.nn.Embedding(5, 3), torch.nn.LSTM(3, 2, batch_first=True), \
            torch.nn.Linear(2, 2)
        self.named = {"embedding": self.emb, "lstm": self.lstm, "dense": self.dense}

    def forward(self, x, y):
        ids = x["ids"]
        e = self.emb(ids)
        _, (h, _) = c.masked_steps(self.lstm, e + e, ids != 0)
        p = self.dense(h[0])
        return {"p": p}, c.mse(p, y["y"])


class MaskedMerge(Layers):
    """masked_merge.seq: Add and Concatenate of two different masks AND them."""

    def __init__(self):
        super().__init__()
        self.emb, self.lstm = torch.nn.Embedding(6, 3), torch.nn.LSTM(3, 4, batch_first=True)
        self.dense, self.dense_1 = torch.nn.Linear(4, 2), torch.nn.Linear(9, 2)
        self.named = {"embedding": self.emb, "lstm": self.lstm, "dense": self.dense,
                      "dense_1": self.dense_1}

    def forward(self, x, y):
        ids, xx = x["ids"], x["x"]
        mx = (xx != 0).any(-1)
        m = xx * mx[..., None]             # Masking zeroes the padded steps
        e = self.emb(ids)
        both = (ids != 0) & mx
        h, _ = c.masked_steps(self.lstm, e + m, both)
        p = self.dense(h)
        q = self.dense_1(torch.cat([e, m, xx], -1))
        return {"p": p, "q": q}, masked_mse(p, y["y"], both) + masked_mse(q, y["z"], both)


class MaskedJoin(Layers):
    """masked_join.seq: Concatenate(axis=1) joins the masks; b counts as valid."""

    def __init__(self):
        super().__init__()
        self.emb, self.lstm = torch.nn.Embedding(6, 2), torch.nn.LSTM(2, 3, batch_first=True)
        self.dense = torch.nn.Linear(3, 2)
        self.named = {"embedding": self.emb, "lstm": self.lstm, "dense": self.dense}

    def forward(self, x, y):
        a, b = x["a"], x["b"]
        mask = torch.cat([a != 0, torch.ones(b.shape[:2], dtype=torch.bool)], 1)
        _, (h, _) = c.masked_steps(self.lstm, torch.cat([self.emb(a), b], 1), mask)
        p = self.dense(h[0])
        return {"p": p}, c.mse(p, y["y"])


class MaskedBidiNone(Layers):
    """masked_bidi_none.seq: with merge_mode=None both sequences keep the mask."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(7, 3)
        self.bidi = torch.nn.LSTM(3, 3, batch_first=True, bidirectional=True)
        self.lstm_1 = torch.nn.LSTM(3, 2, batch_first=True)
        self.dense, self.dense_1 = torch.nn.Linear(3, 2), torch.nn.Linear(2, 2)
        self.named = {"embedding": self.emb, "lstm_1": self.lstm_1, "dense": self.dense,
                      "dense_1": self.dense_1}

    def keras(self, grad=False):
        w = keras_layers(self.named, grad)
        w.update(st.torch_bidirectional_to_keras(self.bidi, "bidirectional", grad=grad))
        return w

    def load_keras(self, w):
        load_keras_layers(self.named, w)
        st.keras_bidirectional_to_torch(self.bidi, st.strip_prefix("bidirectional.forward_lstm", w),
                                        st.strip_prefix("bidirectional.backward_lstm", w))

    def forward(self, x, y):
        ids = x["ids"]
        mask = ids != 0
        h, _ = c.run_per_sample(self.bidi, self.emb(ids), c.right_padded_lengths(mask), "zero")
        f, b = h[..., :3], h[..., 3:]
        p = self.dense(f)
        _, (hq, _) = c.masked_steps(self.lstm_1, b, mask)
        q = self.dense_1(hq[0])
        return {"p": p, "q": q}, masked_mse(p, y["y"], mask) + c.mse(q, y["z"])


def right_padded_ids(r, lengths, t, vocab):
    ids = r.integers(1, vocab, size=(len(lengths), t)).astype("int32")
    for i, k in enumerate(lengths):
        ids[i, k:] = 0
    return ids


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

    # Merges (section 2): Add of one mask keeps it; Add and Concatenate of
    # two different masks AND them, with padding anywhere; Concatenate
    # along time joins them; Bidirectional(merge_mode=None) masks both.
    r = c.rng(26)
    ids = right_padded_ids(r, [6, 2, 1, 5, 6, 3, 4], 6, 5)
    torch.manual_seed(26)
    c.run_case(rep, c.model_file("masked_add.seq"), MaskedAdd(), {"ids": ids},
               {"y": c.normal(r, len(ids), 2)}, a.seqc, a.work, tag="masked_add")
    ids = r.integers(1, 6, size=(7, 7)).astype("int32")
    ids[0, 2] = ids[1, 0] = ids[3, 6] = ids[5, 4] = 0
    ids[1, 5:] = ids[4, :3] = 0
    xx = c.normal(r, 7, 7, 3)
    xx[0, 5] = xx[2, 0] = xx[3, 6] = xx[6, 1] = 0.0
    xx[1, 3:] = xx[5, 4] = 0.0
    torch.manual_seed(27)
    c.run_case(rep, c.model_file("masked_merge.seq"), MaskedMerge(), {"ids": ids, "x": xx},
               {"y": c.normal(r, 7, 7, 2), "z": c.normal(r, 7, 7, 2)}, a.seqc, a.work,
               tag="masked_merge")
    aa = right_padded_ids(r, [4, 1, 0, 3, 2, 4], 4, 6)
    torch.manual_seed(28)
    c.run_case(rep, c.model_file("masked_join.seq"), MaskedJoin(),
               {"a": aa, "b": c.normal(r, len(aa), 3, 2)}, {"y": c.normal(r, len(aa), 2)},
               a.seqc, a.work, tag="masked_join")
    ids = right_padded_ids(r, [7, 3, 1, 6, 7, 2, 5], 7, 7)
    torch.manual_seed(29)
    c.run_case(rep, c.model_file("masked_bidi_none.seq"), MaskedBidiNone(), {"ids": ids},
               {"y": c.normal(r, len(ids), 7, 2), "z": c.normal(r, len(ids), 2)}, a.seqc, a.work,
               tag="masked_bidi_none")
    rep.exit()
