"""Cross-check: GRU(reset_after=true) stacked + sigmoid Dense with binary
crossentropy vs torch nn.GRU (gate blocks z,r,h <-> r,z,n)."""
import common as c
from common import st, torch


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(5, 7, batch_first=True)
        self.gru_1 = torch.nn.GRU(7, 6, batch_first=True)
        self.dense = torch.nn.Linear(6, 2)

    def keras(self, grad=False):
        w = st.with_prefix("gru", st.torch_gru_to_keras(self.gru, grad=grad))
        w.update(st.with_prefix("gru_1", st.torch_gru_to_keras(self.gru_1, grad=grad)))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_gru_to_torch(self.gru, **st.strip_prefix("gru", w))
        st.keras_gru_to_torch(self.gru_1, **st.strip_prefix("gru_1", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        h, _ = self.gru(x["x"])
        h, _ = self.gru_1(h)
        z = self.dense(h[:, -1])
        return {"p": torch.sigmoid(z)}, c.bce_logits(z, y["y"])


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(4)
    r = c.rng(4)
    n, t = 8, 10
    x = {"x": c.normal(r, n, t, 5)}
    y = {"y": r.uniform(0, 1, size=(n, 2)).astype("float32")}
    c.run_case("gru_stack", c.model_file("gru_stack.seq"), Model(), x, y, a.seqc, a.work).exit()
