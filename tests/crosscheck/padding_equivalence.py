"""Check (no torch reference): a right-padded masked batch equals its
samples run one by one, on tests/crosscheck/models/masked_lstm.seq
(Embedding(mask_zero) -> LSTM(return_sequences) -> Dense logits, sparse CE
from logits; KERAS-SEMANTICS.md sections 2 and 7).

With n_i the valid steps of sample i and loss_i, g_i what ``BIN grad``
gives for sample i alone at its own (unpadded) length, Keras's masked mean
over the padded batch is
    loss = sum_i n_i loss_i / sum_i n_i,  and likewise every gradient,
and ``BIN predict`` on the padded batch must give, at each sample's valid
steps, the logits of that sample alone (and the same in batches of 3). Both sides are float32 seqc
results, compared with the usual 1e-5 relative to scale (the per-sample
combination is done in float64)."""
import os

import common as c
from common import np, st


def random_weights(r):
    """Keras-layout weights of masked_lstm.seq (V 11, D 6, u 7, C 5)."""
    shapes = {"embedding.embeddings": (11, 6), "lstm.kernel": (6, 28),
              "lstm.recurrent_kernel": (7, 28), "lstm.bias": (28,),
              "dense.kernel": (7, 5), "dense.bias": (5,)}
    return {k: (r.uniform(-0.5, 0.5, s)).astype(np.float32) for k, s in shapes.items()}


if __name__ == "__main__":
    a = c.args()
    rep = c.Report("padding_equivalence")
    seq = c.model_file("masked_lstm.seq")
    print("== padding_equivalence: %s" % os.path.relpath(seq, c.ROOT))
    d = os.path.join(a.work, "padding_equivalence")
    os.makedirs(d, exist_ok=True)
    try:
        prog = st.SeqcProgram.build(a.seqc, seq, os.path.join(d, "model"))
    except st.SeqcError as e:
        rep.fail("seqc build: %s" % (e.stderr.strip() or e))
        rep.exit()
    r = c.rng(31)
    w = random_weights(r)
    wpath = os.path.join(d, "W.safetensors")
    st.save_safetensors(wpath, w, {"format": "seqc-1"}, checksum=True)

    lengths = [10, 4, 1, 7, 2, 10, 5]
    t = max(lengths) + 2          # every sample padded, even the longest
    ids = r.integers(1, 11, size=(len(lengths), t)).astype("int32")
    for i, k in enumerate(lengths):
        ids[i, k:] = 0
    nxt = r.integers(0, 5, size=(len(lengths), t)).astype("int32")
    try:
        batch_out = prog.predict(wpath, {"ids": ids}, ["logits"])["logits"]
        # predict in batches of 3 (the last one partial) gives the same
        chunked = prog.predict(wpath, {"ids": ids}, ["logits"], batch_size=3)["logits"]
        rep.group("predict", {"logits (--batch-size 3)": (chunked, batch_out)})
        batch_loss, batch_g = prog.grad(wpath, {"ids": ids}, {"next": nxt})
        loss, g, outs = 0.0, {k: np.zeros(v.shape) for k, v in batch_g.items()}, {}
        for i, k in enumerate(lengths):
            xi, yi = {"ids": ids[i:i + 1, :k]}, {"next": nxt[i:i + 1, :k]}
            outs[i] = prog.predict(wpath, xi, ["logits"])["logits"][0]
            li, gi = prog.grad(wpath, xi, yi)
            loss += k * li
            for name in g:
                g[name] += k * gi[name].astype(np.float64)
        total = float(sum(lengths))
        rep.group("predict", {"logits[%d, :%d]" % (i, k): (batch_out[i, :k], outs[i])
                              for i, k in enumerate(lengths)})
        rep.group("loss", {"loss": (batch_loss, loss / total)})
        rep.group("grad", {k: (batch_g[k], g[k] / total) for k in g})
        # Row 0 (padding) is looked up at every padded step, but the masked
        # LSTM drops what it reads there: its gradient is exactly 0.
        rep.value("grad", "embedding.embeddings[0] (padding row)",
                  float(np.max(np.abs(batch_g["embedding.embeddings"][0]))), 0.0, "must be exactly 0")
    except st.SeqcError as e:
        rep.fail("%s: %s" % (" ".join(e.cmd[1:2]), (e.stderr or e.stdout).strip()))
    rep.exit()
