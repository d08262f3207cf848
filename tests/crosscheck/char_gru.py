"""Cross-check: Embedding -> GRU -> Dense logits with sparse categorical
crossentropy (from_logits) vs torch nn.Embedding/nn.GRU/cross_entropy, on
tests/crosscheck/models/char_gru.seq (not stateful, 8 samples) and on
examples/char_gru.seq (stateful, batch 1) run on ONE sample: predict and grad
are one batch from the zero state, and the 3-epoch training check carries
the state from epoch to epoch (Keras's fit never resets it)."""
import common as c
from common import st, torch


class Model(c.KerasModel):
    def __init__(self, stateful=False):
        super().__init__()
        self.stateful, self.h = stateful, None
        self.emb = torch.nn.Embedding(29, 8)
        self.gru = torch.nn.GRU(8, 32, batch_first=True)
        self.dense = torch.nn.Linear(32, 29)

    def keras(self, grad=False):
        w = st.with_prefix("embedding", st.torch_embedding_to_keras(self.emb, grad=grad))
        w.update(st.with_prefix("gru", st.torch_gru_to_keras(self.gru, grad=grad)))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_embedding_to_torch(self.emb, **st.strip_prefix("embedding", w))
        st.keras_gru_to_torch(self.gru, **st.strip_prefix("gru", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def reset_states(self):
        self.h = None

    def forward(self, x, y):
        h, last = self.gru(self.emb(x["chars"]), self.h)
        if self.stateful:   # the next batch continues from here; BPTT stops at the batch edge
            self.h = last.detach()
        z = self.dense(h)
        return {"logits": z}, c.sparse_cce_logits(z, y["next"])


if __name__ == "__main__":
    a = c.args()
    r = c.rng(6)
    n, t = 8, 10
    ids = r.integers(0, 29, size=(n, t + 1)).astype("int32")   # ids repeat: scatter-add
    rep = c.Report("char_gru")
    torch.manual_seed(6)
    c.run_case(rep, c.model_file("char_gru.seq"), Model(), {"chars": ids[:, :-1]},
               {"next": ids[:, 1:]}, a.seqc, a.work, tag="char_gru_nostate")
    torch.manual_seed(7)
    c.run_case(rep, c.example("char_gru.seq"), Model(stateful=True), {"chars": ids[:1, :-1]},
               {"next": ids[:1, 1:]}, a.seqc, a.work, tag="char_gru_stateful_1")
    rep.exit()
