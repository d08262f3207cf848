"""Cross-check: examples/seq2seq.seq (encoder LSTM with return_state whose
[h, c] start the decoder LSTM via initial_state; softmax + categorical
crossentropy) vs torch nn.LSTM."""
import common as c
from common import st, torch


class Model(c.KerasModel):
    def __init__(self):
        super().__init__()
        self.enc = torch.nn.LSTM(10, 32, batch_first=True)
        self.dec = torch.nn.LSTM(8, 32, batch_first=True)
        self.dense = torch.nn.Linear(32, 8)

    def keras(self, grad=False):
        w = st.with_prefix("lstm", st.torch_lstm_to_keras(self.enc, grad=grad))
        w.update(st.with_prefix("lstm_1", st.torch_lstm_to_keras(self.dec, grad=grad)))
        w.update(st.with_prefix("dense", st.torch_dense_to_keras(self.dense, grad=grad)))
        return w

    def load_keras(self, w):
        st.keras_lstm_to_torch(self.enc, **st.strip_prefix("lstm", w))
        st.keras_lstm_to_torch(self.dec, **st.strip_prefix("lstm_1", w))
        st.keras_dense_to_torch(self.dense, **st.strip_prefix("dense", w))

    def forward(self, x, y):
        _, (h, cc) = self.enc(x["encoder_inputs"])          # Keras: state_h, state_c
        s, _ = self.dec(x["decoder_inputs"], (h, cc))
        z = self.dense(s)
        return ({"decoder_outputs": torch.softmax(z, -1)},
                c.cce_logits(z, y["decoder_target"]))


if __name__ == "__main__":
    a = c.args()
    torch.manual_seed(3)
    r = c.rng(3)
    n, te, td = 8, 9, 6
    x = {"encoder_inputs": c.normal(r, n, te, 10), "decoder_inputs": c.one_hot(r, n, td, 8)}
    y = {"decoder_target": c.one_hot(r, n, td, 8)}
    c.run_case("seq2seq", c.example("seq2seq.seq"), Model(), x, y, a.seqc, a.work).exit()
