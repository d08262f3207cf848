"""Shared code of the PyTorch cross-checks (tests/crosscheck/*.py).

Each check script builds a torch model equal to one .seq model and calls
``run_case``, which

1. takes the torch model's seeded random weights (biases re-drawn in
   [-0.5, 0.5] so they are not trivial), converts them to Keras layout as
   float32 and loads them back, so torch and the seqc binary hold exactly
   the same numbers; saves them as W.safetensors (with seqc's checksum);
2. (a) ``BIN predict`` vs the torch forward;
3. (b) ``BIN grad`` (loss and every parameter's gradient, one batch of all
   samples) vs torch autograd of the same Keras loss;
4. (c) ``BIN train --epochs 1 --batch-size N --no-shuffle`` (one Adam step
   from W) vs one ``torch.optim.Adam`` step on the same gradient: the
   weights, the step relative to lr, and Adam's m and v (seqc's
   optimizer.momentum.* and optimizer.velocity.*);
5. (d) ``train --epochs 3 --batch-size 3 --no-shuffle``: 3 epochs of Adam
   steps on batches in order, the last one partial, vs the same in torch.

The torch reference runs in float64 from the same float32 weights and
inputs, so each figure is the float32 error of seqc alone.

Error measure, one line per tensor: max|seqc - torch| / scale, where scale
is the reference tensor's max|.|, but at least 1e-3 times the largest scale
in the same group (outputs, gradients, weights, m, v), so that float32
round-off in a tensor that is ~0 does not give a huge relative figure. A
gradient that is a sum cancelling to 0 in exact arithmetic (AttentionLayer's
V.bias) is measured against the sum of its |terms| (``grad_scales``).
Tolerances: TOL = 1e-5 for outputs, loss, gradients and the Adam step's
weights and state; STEP_TOL and MULTI_TOL below, with their reasons.

Usage of every check script: ``python3 CASE.py --seqc PATH/seqc --work DIR``.
"""

import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))

try:
    import numpy as np
    import torch
except ImportError as e:   # never a silent skip: CI installs python3-torch
    sys.stderr.write("FAIL: the PyTorch cross-checks need numpy and torch for %s (%s): %s\n"
                     "      install them (Debian: apt-get install python3-numpy python3-torch)\n"
                     % (sys.executable, sys.version.split()[0], e))
    sys.exit(1)

import seqc_torch as st  # noqa: E402

TOL = 1e-5
STEP_TOL = 1e-4    # (c): |step error| / lr; float32 W2 alone gives ulp(W)/lr ~ 6e-6
MULTI_TOL = 1e-3   # (d): see there
KERAS_ADAM_EPS = 1e-7
BETA_1, BETA_2 = 0.9, 0.999



def example(name):
    """examples/NAME"""
    return os.path.join(ROOT, "examples", name)


def model_file(name):
    """tests/crosscheck/models/NAME"""
    return os.path.join(HERE, "models", name)


def args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seqc", required=True, help="the seqc executable")
    p.add_argument("--work", required=True, help="scratch directory")
    return p.parse_args()


class Report:
    """Collects comparisons; ``exit()`` ends the script, non-zero on failure."""

    def __init__(self, case):
        self.case, self.failed, self.worst = case, [], 0.0

    def group(self, what, pairs, tol=TOL, min_scale=None):
        """Compare {name: (got, want)}; print one line per tensor.
        ``min_scale`` {name: s}: a lower bound of that tensor's scale, for a
        tensor that cancels to ~0 (then s is the sum of |terms|)."""
        scales = {k: float(np.max(np.abs(w))) if np.size(w) else 0.0 for k, (_, w) in pairs.items()}
        floor = 1e-3 * max(list(scales.values()) + [0.0])
        for k, (got, want) in pairs.items():
            floor_k = max(floor, (min_scale or {}).get(k, 0.0))
            got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
            if got.shape != want.shape:
                self._line(what, k, float("inf"), tol, "shape %s, torch %s" % (got.shape, want.shape))
                continue
            scale = max(scales[k], floor_k) or 1.0
            err = float(np.max(np.abs(got - want))) / scale if got.size else 0.0
            self._line(what, k, err, tol, "scale %.3g%s" % (
                scales[k], ", floor %.3g used" % floor_k if floor_k > scales[k] else ""))

    def _line(self, what, name, err, tol, note):
        ok = err <= tol   # NaN fails
        if not ok:
            self.failed.append("%s %s" % (what, name))
        self.worst = max(self.worst, err) if not math.isnan(err) else float("inf")
        print("  %-8s %-44s max rel err %.2e  (%s)%s" % (what, name, err, note, "" if ok else "  FAILED"))
        sys.stdout.flush()

    def value(self, what, name, err, tol, note):
        """One figure computed by the caller."""
        self._line(what, name, err, tol, note)

    def fail(self, msg):
        print("  FAILED: %s" % msg)
        self.failed.append(msg)

    def exit(self):
        if self.failed:
            print("crosscheck %s: FAILED (%d): %s" % (self.case, len(self.failed), ", ".join(self.failed)))
            sys.exit(1)
        print("crosscheck %s: OK, worst %.2e" % (self.case, self.worst))
        sys.exit(0)


class KerasModel(torch.nn.Module):
    """Base of the torch models. A subclass defines

    * ``keras(grad=False) -> {seqc weight name: float32 array}`` (the
      parameters, or their gradients, in Keras layout), with the helpers of
      tools/seqc_torch.py;
    * ``load_keras(w)``, the inverse;
    * ``forward(x, y) -> (outputs, loss)``: ``x``/``y`` are dicts of tensors
      named as the .seq inputs/targets, ``outputs`` a dict named as the
      model's outputs, ``loss`` Keras's training objective.
    """

    def keras(self, grad=False):
        raise NotImplementedError

    def load_keras(self, w):
        raise NotImplementedError

    def reset_states(self):
        """Zero the carried states of a stateful model (a new binary run
        starts from zero); no-op otherwise."""

    def grad_scales(self):
        """Called after backward: {weight name: scale} for gradients that are
        sums cancelling to ~0 in exact arithmetic, whose float32 round-off is
        relative to the sum of the |terms| rather than to the result."""
        return {}


def _randomize_biases(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "bias" in name.split(".")[-1]:
                p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) - 0.5)


def _prepare(model, seed):
    """Seeded weights, biases re-drawn, round trip through Keras layout
    (float32), then float64 with the redundant RNN biases frozen."""
    gen = torch.Generator().manual_seed(seed)
    _randomize_biases(model, gen)
    w = {k: np.asarray(v, np.float32) for k, v in model.keras().items()}
    model.load_keras(w)
    model.double()
    for m in model.modules():
        if isinstance(m, (torch.nn.RNN, torch.nn.LSTM)):
            st.freeze_redundant_biases(m)
    back = model.keras()
    bad = [k for k in w if not np.array_equal(back[k], w[k])]
    return w, bad


def _tensors(d):
    return {k: torch.as_tensor(v, dtype=torch.long if np.issubdtype(np.asarray(v).dtype, np.integer)
                               else torch.float64) for k, v in d.items()}


def _keras_of(model, tensors):
    """Convert per-parameter tensors (torch layout; e.g. Adam's state) to
    Keras layout by passing them through the ``.grad`` path."""
    saved = {p: p.grad for p in model.parameters()}
    for p in model.parameters():
        p.grad = tensors.get(p, torch.zeros_like(p))
    out = model.keras(grad=True)
    for p, g in saved.items():
        p.grad = g
    return out


def _set_grads(model, g):
    """Set every trainable parameter's .grad from Keras-layout gradients
    ``g``: load_keras maps them exactly (gradients convert like the weights,
    the frozen b_hh staying 0), then the weights are put back."""
    saved = [p.detach().clone() for p in model.parameters()]
    model.load_keras(g)
    with torch.no_grad():
        for p, s in zip(model.parameters(), saved):
            p.grad = p.detach().clone() if p.requires_grad else None
            p.copy_(s)


def _adam_step(model, lr, make_grads):
    """One torch.optim.Adam step with Keras's constants; the gradients come
    from ``make_grads()``. Returns (weights in Keras layout, opt, params)."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, betas=(BETA_1, BETA_2),
                           eps=KERAS_ADAM_EPS / math.sqrt(1 - BETA_2))
    model.zero_grad()
    make_grads()
    opt.step()
    return model.keras(), opt, params


def run_case(case, seq, model, x, y, seqc, work, seed=0, lr=0.01, tol=TOL, tag=None):
    """Cross-check one model: see the module docstring. ``x``/``y`` are dicts
    of numpy arrays (float32, or int for token ids / sparse labels). Returns
    the Report (the caller calls ``exit()``)."""
    rep = Report(case) if isinstance(case, str) else case
    tag = tag or rep.case
    print("== %s: %s" % (tag, os.path.relpath(seq, ROOT)))
    d = os.path.join(work, tag)
    os.makedirs(d, exist_ok=True)
    try:
        prog = st.SeqcProgram.build(seqc, seq, os.path.join(d, "model"))
    except st.SeqcError as e:
        rep.fail("seqc build %s: %s" % (os.path.basename(seq), e.stderr.strip() or e))
        return rep
    w, bad = _prepare(model, seed)
    if bad:
        rep.fail("Keras <-> torch round trip changed %s" % bad)
    wpath = os.path.join(d, "W.safetensors")
    st.save_safetensors(wpath, w, {"format": "seqc-1"}, checksum=True)
    n = len(next(iter(x.values())))
    xt, yt = _tensors(x), _tensors(y)
    try:
        # (a) predict
        model.reset_states()
        with torch.no_grad():
            outs, _ = model(xt, yt)
        got = prog.predict(wpath, x, list(outs))
        rep.group("predict", {k: (got[k], outs[k].numpy()) for k in outs}, tol)

        # (b) loss and gradients
        model.reset_states()
        model.zero_grad()
        _, loss = model(xt, yt)
        loss.backward()
        want = model.keras(grad=True)
        l, g = prog.grad(wpath, x, y)
        if set(g) != set(want):
            rep.fail("gradient names: seqc %s, torch %s" % (sorted(g), sorted(want)))
        rep.group("loss", {"loss": (l, loss.item())}, tol)
        rep.group("grad", {k: (g[k], want[k]) for k in want if k in g}, tol, model.grad_scales())

        # (c) one Adam step over all N samples. Keras adds epsilon (1e-7) to
        # sqrt(v) of the uncorrected v, and scales the step by
        # sqrt(1 - beta_2^t) / (1 - beta_1^t); torch adds its eps to
        # sqrt(v_hat) of the corrected v. They agree when
        # eps_torch = eps_keras / sqrt(1 - beta_2^t), which depends on the
        # step t (KERAS-SEMANTICS.md section 8); here t = 1.
        trained = prog.train(wpath, x, y, epochs=1, batch_size=n, lr=lr)
        missing = [k for k in w if k not in trained]
        if missing:
            rep.fail("train --save lacks %s" % missing)
        # The first step is ~lr*sign(g): where |g| is near eps/sqrt(1-beta_2)
        # (3e-6) it is steep in g, and float32 round-off of g (checked in (b))
        # moves W2 by up to lr*dg/3e-6. So the checked comparison gives torch's
        # Adam the gradient seqc computed (from `grad`); the end-to-end figure
        # with torch's own gradient is printed for information.
        model.reset_states()
        e2e = _adam_step(model, lr, lambda: model(xt, yt)[1].backward())[0]
        worst = max((float(np.max(np.abs(trained[k] - e2e[k]))), k) for k in e2e if k in trained)
        print("  %-8s %-44s max abs err %.2e = %.2e lr  (info: torch's own gradient)"
              % ("adam", "(end to end) " + worst[1], worst[0], worst[0] / lr))
        model.load_keras(w)
        w2, opt, params = _adam_step(model, lr, lambda: _set_grads(model, g))
        rep.group("adam", {k: (trained[k], w2[k]) for k in w2 if k in trained}, tol)
        # The step itself, relative to lr; rounding W2 to float32 alone gives
        # up to ulp(W)/lr ~ 1e-5 at lr 0.01.
        upd = max(float(np.max(np.abs((trained[k] - w[k]) - (w2[k].astype(np.float64) - w[k]))))
                  for k in w2 if k in trained) / lr
        rep.value("adam", "(step) |step error| / lr", upd, STEP_TOL, "lr %g" % lr)
        # Adam's state as seqc saves it (Keras 3 names): m = torch exp_avg,
        # v = torch exp_avg_sq (both uncorrected in both).
        for slot, key in (("momentum", "exp_avg"), ("velocity", "exp_avg_sq")):
            ref = _keras_of(model, {p: opt.state[p][key] for p in params})
            names = {k: "optimizer.%s.%s" % (slot, k) for k in ref}
            if not all(v in trained for v in names.values()):
                rep.fail("train --save lacks optimizer.%s.* (slots: %s)" % (
                    slot, sorted({k.split(".")[1] for k in trained if k.startswith("optimizer.")})))
                continue
            rep.group("adam." + slot[0], {k: (trained[names[k]], ref[k]) for k in ref}, tol)

        # (d) several Adam steps: 3 epochs in batches of 3 without shuffling
        # (the last batch of each epoch partial), vs torch with eps set per
        # step t to 1e-7 / sqrt(1 - beta_2^t). The trajectory compounds the
        # round-off amplification of (c) over 3 epochs, hence MULTI_TOL;
        # tensors whose gradient is pure round-off (grad_scales) only print.
        model.load_keras(w)
        trained = prog.train(wpath, x, y, epochs=3, batch_size=3, lr=lr)
        w3 = _adam_epochs(model, xt, yt, n, lr, epochs=3, batch_size=3)
        noise = set(model.grad_scales())
        what = "adam*%d" % (3 * math.ceil(n / 3))
        rep.group(what, {k: (trained[k], w3[k]) for k in w3 if k not in noise}, MULTI_TOL)
        for k in noise:
            e = float(np.max(np.abs(trained[k] - w3[k]))) / float(np.max(np.abs(w3[k])))
            print("  %-8s %-44s max rel err %.2e  (info: its gradient is round-off)" % (what, k, e))
    except st.SeqcError as e:
        rep.fail("%s: %s" % (" ".join(e.cmd[1:2]), (e.stderr or e.stdout).strip()))
    return rep


def _adam_epochs(model, xt, yt, n, lr, epochs, batch_size):
    """Keras fit without shuffling: Adam steps over batches in order, the
    last partial batch kept, states carried (stateful) and never reset."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, betas=(BETA_1, BETA_2))
    model.reset_states()
    t = 0
    for _ in range(epochs):
        for b in range(0, n, batch_size):
            t += 1
            opt.param_groups[0]["eps"] = KERAS_ADAM_EPS / math.sqrt(1 - BETA_2 ** t)
            model.zero_grad()
            _, loss = model({k: v[b:b + batch_size] for k, v in xt.items()},
                            {k: v[b:b + batch_size] for k, v in yt.items()})
            loss.backward()
            opt.step()
    return model.keras()


# ---- data and loss helpers (Keras reductions, KERAS-SEMANTICS.md section 7)

def rng(seed):
    return np.random.default_rng(seed)


def normal(r, *shape, scale=1.0):
    return (r.standard_normal(shape) * scale).astype(np.float32)


def one_hot(r, n, t, c):
    return np.eye(c, dtype=np.float32)[r.integers(0, c, size=(n, t))]


def mse(p, y):
    """Keras mse: mean over the last axis, then over every position."""
    return ((p - y) ** 2).mean()


def cce_logits(z, y):
    """categorical_crossentropy on a softmax output, TF's logits path:
    -sum_c y log_softmax(z), averaged over B*T (dL/dz = (p - y)/(B*T))."""
    return -(y * torch.log_softmax(z, dim=-1)).sum(-1).mean()


def sparse_cce_logits(z, labels):
    """sparse_categorical_crossentropy(from_logits=True), mean over B*T."""
    return torch.nn.functional.cross_entropy(z.reshape(-1, z.shape[-1]), labels.reshape(-1))


def bce_logits(z, y):
    """binary_crossentropy on a sigmoid output, TF's logits path: mean over
    every element (last axis, then B*T), dL/dz = (sigmoid(z) - y)/(B*T*C)."""
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y)


# ---- masking helpers (KERAS-SEMANTICS.md sections 2 and 7)

def right_padded_lengths(mask):
    """The valid length of each row of a right-padded [B, T] mask (bool
    array or tensor); raises if a row is not valid steps then padding."""
    m = np.asarray(mask, bool)
    n = m.sum(1)
    for i, k in enumerate(n):
        if not (m[i, :k].all() and not m[i, k:].any()):
            raise ValueError("row %d of the mask is not right-padded: %s" % (i, m[i].astype(int)))
    return n


def masked_mean(values, mask):
    """Keras's masked reduction (section 7): the per-position losses
    ``values`` [B, T] summed over the valid positions and divided by their
    count."""
    m = mask.to(values.dtype)
    return (values * m).sum() / m.sum()


def run_per_sample(rnn, x, lengths, fill):
    """Run the batch_first torch RNN ``rnn`` (RNN/LSTM/GRU, either direction
    setting) on each sample of ``x`` [B, T, D] at its own length, as Keras's
    masked RNN sees a right-padded batch. Returns ``(out [B, T, H*dirs],
    last)``: at the padded steps ``out`` repeats the last valid output
    (``fill="repeat"``, Keras's zero_output_for_mask=False) or is 0
    (``fill="zero"``: zero_output_for_mask=True, as inside Bidirectional).
    ``last`` is torch's final state (h_n, or (h_n, c_n) for an LSTM), the
    state at the last valid step, stacked over the batch on axis 1; a
    sample of length 0 gets zeros (its state never moves from 0)."""
    outs, lasts = [], []
    B, T = x.shape[0], x.shape[1]
    dirs = 2 if rnn.bidirectional else 1
    lstm = isinstance(rnn, torch.nn.LSTM)
    for i in range(B):
        k = int(lengths[i])
        if k == 0:
            o = x.new_zeros(1, T, dirs * rnn.hidden_size)
            z = x.new_zeros(dirs * rnn.num_layers, 1, rnn.hidden_size)
            outs.append(o)
            lasts.append((z, z) if lstm else z)
            continue
        o, last = rnn(x[i:i + 1, :k])
        if k < T:
            pad = o[:, k - 1:k].expand(1, T - k, o.shape[2]) if fill == "repeat" else \
                o.new_zeros(1, T - k, o.shape[2])
            o = torch.cat([o, pad], 1)
        outs.append(o)
        lasts.append(last)
    out = torch.cat(outs, 0)
    if lstm:
        return out, (torch.cat([a for a, _ in lasts], 1), torch.cat([b for _, b in lasts], 1))
    return out, torch.cat(lasts, 1)


def masked_steps(rnn, x, mask, fill="repeat"):
    """Keras's masked RNN written step by step (section 2), for a mask with
    padding anywhere: the batch_first one-direction torch RNN ``rnn``
    (RNN/LSTM/GRU) runs every step; where ``mask`` [B, T] is False the state
    is kept and the output repeats the previous one (``fill="repeat"``,
    out_{-1} = 0) or is 0 (``fill="zero"``). Returns ``(out [B, T, H],
    last)`` with ``last`` the final state as torch gives it."""
    B, T = mask.shape
    lstm = isinstance(rnn, torch.nn.LSTM)
    h = x.new_zeros(1, B, rnn.hidden_size)
    state = (h, h.clone()) if lstm else h
    out, outs = x.new_zeros(B, rnn.hidden_size), []
    for s in range(T):
        o, new = rnn(x[:, s:s + 1], state)
        m = mask[:, s]
        if lstm:
            state = tuple(torch.where(m[None, :, None], a, b) for a, b in zip(new, state))
        else:
            state = torch.where(m[None, :, None], new, state)
        keep = out if fill == "repeat" else torch.zeros_like(out)
        out = torch.where(m[:, None], o[:, 0], keep)
        outs.append(out)
    return torch.stack(outs, 1), state
