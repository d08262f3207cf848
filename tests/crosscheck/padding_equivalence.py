"""Check (no torch reference): every layer kind's mask rule, by the op table.

For each layer kind in the compiler's op table (compiler/ops/ops.c, listed
by the ``op_table`` program given with ``--ops``), some model below must
use it, and for each model a right-padded batch must equal its samples run
one by one at their own lengths: outputs, loss and every gradient. A kind
with no such model must say why in its file (OpInfo.mask_note, e.g.
Conv1D: a kernel wider than a step mixes padding into valid steps), and
MASK_DROP kinds must always say why. docs/language.md's table of mask rules
must list every kind with its rule. So a layer cannot be added without its
mask rule being declared, documented and tested.

With n_i the valid steps of sample i and loss_i, g_i what ``BIN grad``
gives for sample i alone at its own (unpadded) length, Keras's masked mean
over the padded batch is
    loss = sum_i n_i loss_i / sum_i n_i,  and likewise every gradient,
when the losses are over masked sequences (per_step), and the plain mean
over samples when they are per sample. ``BIN predict`` on the padded batch
must give, at each sample's valid steps, the outputs of that sample alone
(and the same in batches of 3). Both sides are float32 seqc results,
compared with the usual 1e-5 relative to scale (the per-sample combination
is done in float64). Weights: the model's own initial weights after one
training step, plus uniform noise, so no bias is trivially zero."""
import argparse
import os
import re
import subprocess

import common as c
from common import np, st

# Each case: model file (tests/crosscheck/models), the inputs to pad (name:
# "ids" token ids below `vocab`, or feature count of floats), the targets
# (name: shape after the batch axis, "T" for the padded time axis), and
# whether the losses average over valid steps (per_step) or samples.
CASES = [
    {"seq": "masked_lstm.seq", "inputs": {"ids": ("ids", 11)}, "targets": {"next": ("int", 5)},
     "outputs": ["logits"], "per_step": True},
    {"seq": "pad_recurrent.seq", "inputs": {"ids": ("ids", 9)}, "targets": {"y": ("T", 2)},
     "outputs": ["p"], "per_step": True},
    {"seq": "pad_merge.seq", "inputs": {"ids": ("ids", 9), "x": ("floats", 3)},
     "targets": {"y": ("T", 2), "z": ("T", 2)}, "outputs": ["p", "q"], "per_step": True},
    {"seq": "pad_attention.seq", "inputs": {"ids": ("ids", 9)}, "targets": {"y": ("T", 2)},
     "outputs": ["p"], "per_step": True},
    {"seq": "pad_vectors.seq", "inputs": {"ids": ("ids", 9)},
     "targets": {"y": ("vector", 2), "z": ("fixed", 3, 2)}, "outputs": ["p", "q"],
     "per_step": False},
]
LENGTHS = [10, 4, 1, 7, 2, 10, 5]
T = max(LENGTHS) + 2          # every sample padded, even the longest


def args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seqc", required=True, help="the seqc executable")
    p.add_argument("--ops", required=True, help="the op_table program")
    p.add_argument("--work", required=True, help="scratch directory")
    return p.parse_args()


def op_table(path):
    """[(name, rule, note)] of the compiler's op table."""
    out = subprocess.run([path], capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")[:3]) for line in out.splitlines()]


def docs_rules():
    """{layer: row text} of the mask-rule table in docs/language.md."""
    text = open(os.path.join(c.ROOT, "docs", "language.md")).read()
    m = re.search(r"^### Padding masks\n(.*?)(?=^#)", text, re.S | re.M)
    rows = {}
    for line in (m.group(1) if m else "").splitlines():
        cells = [x.strip() for x in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 1:
            for name in re.findall(r"`(\w+)`", cells[0]):
                rows[name] = line
    return rows


def check_table(rep, ops):
    """Every kind: a rule, documented; a case or a stated reason."""
    texts = {case["seq"]: open(c.model_file(case["seq"])).read() for case in CASES}
    docs = docs_rules()
    for name, rule, note in ops:
        users = [s for s, t in texts.items() if re.search(r"\b%s\(" % name, t)]
        if rule == "unset":
            rep.fail("%s declares no mask rule (OpInfo.mask)" % name)
        if rule == "drop" and not note:
            rep.fail("%s drops masks without saying why (OpInfo.mask_note)" % name)
        if not users and not note:
            rep.fail("%s has no padded-batch case here and no OpInfo.mask_note saying why" % name)
        if name not in docs or rule not in docs[name]:
            rep.fail("docs/language.md's mask table lacks %s with its rule '%s'" % (name, rule))
        print("  op       %-20s %-10s %s" % (name, rule, ", ".join(users) if users else "no case: " + note))


def make_data(r, case):
    x, y = {}, {}
    for name, spec in case["inputs"].items():
        if spec[0] == "ids":
            a = r.integers(1, spec[1], size=(len(LENGTHS), T)).astype("int32")
            for i, k in enumerate(LENGTHS):
                a[i, k:] = 0
        else:
            a = c.normal(r, len(LENGTHS), T, spec[1])
            for i, k in enumerate(LENGTHS):
                a[i, k:] = 0.0
        x[name] = a
    for name, spec in case["targets"].items():
        kind = spec[0]
        y[name] = (r.integers(0, spec[1], size=(len(LENGTHS), T)).astype("int32") if kind == "int"
                   else c.normal(r, len(LENGTHS), T, spec[1]) if kind == "T"
                   else c.normal(r, len(LENGTHS), *spec[1:]))
    return x, y


def per_sample(d, case_specs, i, k):
    """Sample i of the arrays d, cut to its k valid steps where padded."""
    out = {}
    for name, a in d.items():
        kind = case_specs[name][0]
        out[name] = a[i:i + 1, :k] if kind in ("ids", "floats", "int", "T") else a[i:i + 1]
    return out


def weights(prog, d, x, y, r):
    """The model's initial weights after one step, plus U(-0.3, 0.3)."""
    path = os.path.join(d, "W0.safetensors")
    prog.run("train", "--save", path, "--epochs", "1", "--batch-size", str(len(LENGTHS)),
             "--seed", "3", "--quiet", "--no-shuffle", *prog._specs("--x", "x", x),
             *prog._specs("--y", "y", y))
    w, _ = st.load_safetensors(path)
    w = {k: (v + r.uniform(-0.3, 0.3, v.shape)).astype(np.float32) for k, v in w.items()
         if not k.startswith("optimizer.")}
    wpath = os.path.join(d, "W.safetensors")
    st.save_safetensors(wpath, w, {"format": "seqc-1"}, checksum=True)
    return wpath


def run_case(rep, seqc, work, case, r):
    tag = os.path.splitext(case["seq"])[0]
    print("== padding_equivalence %s" % tag)
    d = os.path.join(work, "padding_equivalence", tag)
    os.makedirs(d, exist_ok=True)
    try:
        prog = st.SeqcProgram.build(seqc, c.model_file(case["seq"]), os.path.join(d, "model"))
    except st.SeqcError as e:
        rep.fail("seqc build %s: %s" % (case["seq"], e.stderr.strip() or e))
        return
    x, y = make_data(r, case)
    specs = dict(case["inputs"], **case["targets"])
    outs = case["outputs"]
    try:
        wpath = weights(prog, d, x, y, r)
        batch_out = prog.predict(wpath, x, outs)
        chunked = prog.predict(wpath, x, outs, batch_size=3)
        rep.group("predict", {"%s (--batch-size 3)" % o: (chunked[o], batch_out[o]) for o in outs})
        batch_loss, batch_g = prog.grad(wpath, x, y)
        loss, g, pairs = 0.0, {k: np.zeros(v.shape) for k, v in batch_g.items()}, {}
        for i, k in enumerate(LENGTHS):
            xi, yi = per_sample(x, specs, i, k), per_sample(y, specs, i, k)
            one = prog.predict(wpath, xi, outs)
            for o in outs:
                got = batch_out[o][i]
                if got.ndim and got.shape[0] == T:      # a masked sequence: its valid steps
                    got = got[:k]
                pairs["%s[%d]" % (o, i)] = (got, one[o][0])
            li, gi = prog.grad(wpath, xi, yi)
            n = k if case["per_step"] else 1
            loss += n * li
            for name in g:
                g[name] += n * gi[name].astype(np.float64)
        total = float(sum(LENGTHS) if case["per_step"] else len(LENGTHS))
        rep.group("predict", pairs)
        rep.group("loss", {"loss": (batch_loss, loss / total)})
        rep.group("grad", {k: (batch_g[k], g[k] / total) for k in g})
        # Row 0 (padding) is looked up at every padded step, but the masked
        # layers drop what they read there: its gradient is exactly 0.
        emb = [k for k in batch_g if k.endswith("embeddings")]
        for k in emb:
            rep.value("grad", "%s[0] (padding row)" % k, float(np.max(np.abs(batch_g[k][0]))), 0.0,
                      "must be exactly 0")
    except st.SeqcError as e:
        rep.fail("%s: %s" % (" ".join(e.cmd[1:2]), (e.stderr or e.stdout).strip()))


if __name__ == "__main__":
    a = args()
    rep = c.Report("padding_equivalence")
    print("== padding_equivalence: the op table")
    check_table(rep, op_table(a.ops))
    r = c.rng(31)
    for case in CASES:
        run_case(rep, a.seqc, a.work, case, r)
    rep.exit()
