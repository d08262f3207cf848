// cases.js: the models of the tfjs cross-checks (check.js says what is
// compared). Each case names its .seq file and builds the same model with
// tfjs layers:
//   build(tf) -> {layers: {key: tfjs layer}, forward(x) -> {output: tensor},
//                 rename: {tfjs weight name: seqc name}}; x holds tensors
//                 named as the .seq inputs
//   outputs   the program's outputs, in the order of model.outputs
//   data(r)   seeded inputs and targets: {x, y, n}
//   loss(tf, outs, y, x, built)  Keras's training objective (KERAS-SEMANTICS 7)
//   compareOnly(x) -> {output: 0/1 per element}: outputs compared at the
//                 valid steps only (see tfjs deviation 2 below)
//
// Where tfjs deviates from Keras (tf.keras 2, which seqc follows), the
// reference is made to follow Keras; seqc copies none of these:
//  1. Recurrent activation: tfjs's LSTM and GRU default to hard_sigmoid
//     (Keras 1's default); Keras 2 and seqc use sigmoid, so every tfjs LSTM
//     and GRU here sets recurrentActivation: 'sigmoid'.
//  2. Outputs at masked steps: Keras's Bidirectional writes zeros there
//     (zero_output_for_mask = return_sequences); tfjs's repeats the forward
//     direction's last valid output and gives the backward direction's
//     initial state (zeros). The losses count valid steps only, so they and
//     the gradients are unaffected; outputs are compared at valid steps.
//  3. Masked losses: tfjs's training loop ignores masks; the losses here
//     are written out as Keras computes them (sum over the valid steps /
//     their count), with the mask taken from the data.
//  4. Conv1D: tfjs has no causal padding (it throws NotImplementedError),
//     so only valid and same are checked; a causal convolution equals a
//     valid one on a left-padded input, which the PyTorch cross-check of
//     wavenet covers.
//  5. Dilated Conv1D: tfjs computes the forward pass but has no gradient
//     ("dilation rates greater than 1 are not yet supported in
//     gradients"). The gradient is taken through the same convolution
//     written as a sum of K shifted products, on the same variables; the
//     predict comparison uses tfjs's own dilated layer.
//  6. Masks of Add (and the other Merge layers but Concatenate): tfjs's
//     Merge.computeMask gives the first input's mask with an extra leading
//     axis ([1, B, T]) and leaves the last input out of the AND, which then
//     breaks the next masked layer; Keras gives the AND of all the inputs'
//     masks ([B, T]). Add's mask here is Keras's rule (kerasMergeMask).
//  7. Masks in tfjs's functional models (tf.model): its executor keeps the
//     first mask it sees in the keyword arguments of every later layer,
//     masked input or not, and with a tensor fed twice to one layer
//     (Add()([e, e])) frees it before its other consumers run. So the
//     models here are the layers called in order with each mask passed
//     explicitly, by Keras's rules (compute_mask of each layer).
//  8. Adam (goodbye_train): tfjs's AdamOptimizer adds epsilon to
//     sqrt(v_hat) of the bias-corrected v; Keras adds it to sqrt(v) of the
//     uncorrected v and folds the corrections into the step size. The loop
//     here is Keras's formula written by hand, not tf.train.adam.
'use strict';

const path = require('path');

const MODELS = path.join(__dirname, 'models');
const ROOT = path.join(__dirname, '..', '..');
const N = 5;   // samples per batch

const SIG = { recurrentActivation: 'sigmoid' };   // deviation 1

// ---- losses (KERAS-SEMANTICS 7) -------------------------------------------

// mse: the mean over the last axis, then over every position, or over the
// valid positions only when `mask` ([B, T] of 0/1) is given.
function mse(tf, p, y, mask) {
  const l = tf.mean(tf.square(tf.sub(p, y)), -1);
  return mask ? tf.div(tf.sum(tf.mul(l, mask)), tf.sum(mask)) : tf.mean(l);
}

// categorical cross-entropy on a softmax output: -sum_c y log p per
// position, averaged over B*T (no probability ever nears the 1e-7 clip).
function cce(tf, p, y) {
  return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(p)), -1)));
}

// ---- data -----------------------------------------------------------------

// Right-padded token ids [n, t] in [1, vocab), 0 after each sample's
// length; lengths 1..t, the first sample full length.
function paddedIds(r, n, t, vocab) {
  const ids = r.ints([n, t], 1, vocab);
  for (let i = 1; i < n; i++) {
    const len = 1 + Math.floor(r.next() * t);
    for (let j = len; j < t; j++) ids.data[i * t + j] = 0;
  }
  return ids;
}

// [n, t] 0/1 mask of the nonzero ids (Embedding mask_zero) or of the steps
// with a nonzero feature (Masking with mask_value 0).
function validSteps(a) {
  const [n, t] = a.shape;
  const f = a.data.length / (n * t);
  const m = new Float32Array(n * t);
  for (let i = 0; i < n * t; i++) {
    for (let k = 0; k < f; k++) if (a.data[i * f + k] !== 0) m[i] = 1;
  }
  return m;
}

// The mask [n, t] broadcast over a last axis of `width` (for compareOnly).
function overFeatures(m, width) {
  const out = new Uint8Array(m.length * width);
  for (let i = 0; i < out.length; i++) out[i] = m[Math.floor(i / width)];
  return out;
}

// Deviation 6: Keras's Merge.compute_mask: the AND of the inputs' masks,
// null when none has one.
function kerasMergeMask(tf, masks) {
  const ms = masks.filter((m) => m != null);
  return ms.length ? ms.reduce((a, m) => tf.logicalAnd(a, m)) : null;
}

const maskTensor = (tf, a) => tf.tensor(validSteps(a), a.shape.slice(0, 2));

// Masking's input: normal features, then all-zero steps after each
// sample's length (the first sample full length).
function paddedFeatures(r, n, t, f) {
  const x = r.normal([n, t, f]);
  for (let i = 1; i < n; i++) {
    const len = 1 + Math.floor(r.next() * t);
    x.data.fill(0, (i * t + len) * f, (i + 1) * t * f);
  }
  return x;
}

// ---- the cases ------------------------------------------------------------

const cases = {};

cases.simple_rnn = {
  seq: path.join(MODELS, 'simple_rnn.seq'),
  outputs: ['p'],
  build(tf) {
    const L = {
      a: tf.layers.simpleRNN({ units: 5, returnSequences: true, name: 'simple_rnn' }),
      b: tf.layers.simpleRNN({ units: 4, goBackwards: true, name: 'simple_rnn_1' }),
      d: tf.layers.dense({ units: 2, activation: 'tanh', name: 'dense' }),
    };
    return { layers: L, forward: (x) => ({ p: L.d.apply(L.b.apply(L.a.apply(x.x))) }) };
  },
  data: (r) => ({ x: { x: r.normal([N, 7, 3]) }, y: { y: r.normal([N, 2], 0.5) }, n: N }),
  loss: (tf, o, y) => mse(tf, o.p, y.y),
};

cases.lstm = {
  seq: path.join(MODELS, 'lstm.seq'),
  outputs: ['hT', 'cT', 'p'],
  build(tf) {
    const L = {
      lstm: tf.layers.lstm({ units: 5, returnSequences: true, returnState: true, name: 'lstm', ...SIG }),
      d: tf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }),
    };
    return { layers: L, forward(x) {
      const [h, hT, cT] = L.lstm.apply(x.x);
      return { hT, cT, p: L.d.apply(h) };
    } };
  },
  data: (r) => ({ x: { x: r.normal([N, 6, 4]) }, y: { y: r.oneHot([N, 6, 3]) }, n: N }),
  loss: (tf, o, y) => cce(tf, o.p, y.y),
};

cases.gru = {
  seq: path.join(MODELS, 'gru.seq'),
  outputs: ['p'],
  build(tf) {
    // tfjs's GRU is reset_after=false (it refuses resetAfter: true).
    const L = {
      a: tf.layers.gru({ units: 5, returnSequences: true, name: 'gru', ...SIG }),
      b: tf.layers.gru({ units: 3, goBackwards: true, name: 'gru_1', ...SIG }),
      d: tf.layers.dense({ units: 2, name: 'dense' }),
    };
    return { layers: L, forward: (x) => ({ p: L.d.apply(L.b.apply(L.a.apply(x.x))) }) };
  },
  data: (r) => ({ x: { x: r.normal([N, 7, 3]) }, y: { y: r.normal([N, 2], 0.5) }, n: N }),
  loss: (tf, o, y) => mse(tf, o.p, y.y),
};

cases.embedding_mask = {
  seq: path.join(MODELS, 'embedding_mask.seq'),
  outputs: ['p'],
  build(tf) {
    const L = {
      e: tf.layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, name: 'embedding' }),
      a: tf.layers.lstm({ units: 5, returnSequences: true, name: 'lstm', ...SIG }),
      b: tf.layers.gru({ units: 3, returnSequences: true, name: 'gru', ...SIG }),
      c: tf.layers.simpleRNN({ units: 3, returnSequences: true, name: 'simple_rnn' }),
      d: tf.layers.dense({ units: 2, name: 'dense' }),
    };
    return { layers: L, forward(x) {
      const mask = L.e.computeMask(x.ids);   // return_sequences passes it on
      const h = L.c.apply(L.b.apply(L.a.apply(L.e.apply(x.ids), { mask }), { mask }), { mask });
      return { p: L.d.apply(h) };
    } };
  },
  data: (r) => ({ x: { ids: paddedIds(r, N, 7, 9) }, y: { y: r.normal([N, 7, 2], 0.5) }, n: N }),
  loss: (tf, o, y, x) => mse(tf, o.p, y.y, maskTensor(tf, x.ids)),
};

cases.conv1d = {
  seq: path.join(MODELS, 'conv1d.seq'),
  outputs: ['p'],
  build(tf) {
    const L = {
      a: tf.layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, activation: 'tanh', name: 'conv1d' }),
      b: tf.layers.conv1d({ filters: 5, kernelSize: 2, padding: 'same', activation: 'sigmoid', name: 'conv1d_1' }),
      c: tf.layers.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2, name: 'conv1d_2' }),
    };
    return { layers: L, forward: (x) => ({ p: L.c.apply(L.b.apply(L.a.apply(x.x))) }) };
  },
  data: (r) => ({ x: { x: r.normal([N, 13, 3]) }, y: { y: r.normal([N, 2, 2], 0.5) }, n: N }),
  // Deviation 5: the dilated layer as a sum over its K taps, on its own
  // kernel and bias variables (valid padding, stride 1, dilation 2).
  loss(tf, o, y, x, built) {
    const { a, b, c } = built.layers;
    const h = b.apply(a.apply(tf.tensor(x.x.data, x.x.shape)));
    const [kernel, bias] = [c.kernel.read(), c.bias.read()];
    const K = 3, d = 2, out = h.shape[1] - d * (K - 1);
    let p = null;
    for (let k = 0; k < K; k++) {
      const tap = tf.slice(h, [0, k * d, 0], [-1, out, -1]);
      const wk = tf.reshape(tf.slice(kernel, [k, 0, 0], [1, -1, -1]), kernel.shape.slice(1));
      const term = tf.reshape(tf.matMul(tf.reshape(tap, [-1, h.shape[2]]), wk), [h.shape[0], out, -1]);
      p = p ? tf.add(p, term) : term;
    }
    return mse(tf, tf.add(p, bias), y.y);
  },
};

// tfjs names TimeDistributed's weights without the inner layer's name.
const TD_DENSE = { 'time_distributed.kernel': 'time_distributed.dense.kernel',
  'time_distributed.bias': 'time_distributed.dense.bias' };

cases.bidirectional = {
  seq: path.join(MODELS, 'bidirectional.seq'),
  outputs: ['p'],
  build(tf) {
    const L = {
      m: tf.layers.masking({ maskValue: 0, name: 'masking' }),
      a: tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences: true, name: 'lstm', ...SIG }),
        name: 'bidirectional' }),
      b: tf.layers.bidirectional({ layer: tf.layers.gru({ units: 3, returnSequences: true, name: 'gru', ...SIG }),
        mergeMode: 'sum', name: 'bidirectional_1' }),
      td: tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, name: 'dense' }), name: 'time_distributed' }),
    };
    return { layers: L, rename: TD_DENSE, forward(x) {
      const mask = L.m.computeMask(x.x);
      const h = L.b.apply(L.a.apply(L.m.apply(x.x), { mask }), { mask });
      return { p: L.td.apply(h) };
    } };
  },
  data: (r) => ({ x: { x: paddedFeatures(r, N, 6, 3) }, y: { y: r.normal([N, 6, 2], 0.5) }, n: N }),
  loss: (tf, o, y, x) => mse(tf, o.p, y.y, maskTensor(tf, x.x)),
  compareOnly: (x) => ({ p: overFeatures(validSteps(x.x), 2) }),   // deviation 2
};

cases.merge = {
  seq: path.join(MODELS, 'merge.seq'),
  outputs: ['p', 'q'],
  build(tf) {
    const L = {
      srnn: tf.layers.simpleRNN({ units: 4, returnSequences: true, name: 'simple_rnn' }),
      gru: tf.layers.gru({ units: 4, returnSequences: true, name: 'gru', ...SIG }),
      add: tf.layers.add({ name: 'add' }),
      cat: tf.layers.concatenate({ name: 'concatenate' }),
      catT: tf.layers.concatenate({ axis: 1, name: 'concatenate_1' }),
      cat2: tf.layers.concatenate({ name: 'concatenate_2' }),
      td: tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: 'tanh', name: 'dense' }),
        name: 'time_distributed' }),
      lstm: tf.layers.lstm({ units: 3, name: 'lstm', ...SIG }),
      d: tf.layers.dense({ units: 3, name: 'dense_1' }),
    };
    return { layers: L, rename: TD_DENSE, forward(x) {
      const s = L.add.apply([L.srnn.apply(x.a), L.gru.apply(x.b)]);
      const t = L.catT.apply([L.cat.apply([s, x.a]), L.cat2.apply([x.b, s])]);
      return { p: L.td.apply(t), q: L.d.apply(L.lstm.apply(t)) };
    } };
  },
  data: (r) => ({ x: { a: r.normal([N, 5, 3]), b: r.normal([N, 5, 3]) },
    y: { y: r.normal([N, 10, 2], 0.5), z: r.normal([N, 3], 0.5) }, n: N }),
  loss: (tf, o, y) => tf.add(mse(tf, o.p, y.y), mse(tf, o.q, y.z)),
};

// Masks through merges: Keras's Merge.compute_mask gives the AND of the
// inputs' masks; Concatenate's counts an unmasked input as all valid (tfjs's
// Concatenate does the same); Add follows Keras by deviation 6.
cases.merge_add_mask = {
  seq: path.join(MODELS, 'merge_add_mask.seq'),
  outputs: ['p', 'q'],
  build(tf) {
    const L = {
      e: tf.layers.embedding({ inputDim: 5, outputDim: 3, maskZero: true, name: 'embedding' }),
      add: tf.layers.add({ name: 'add' }),
      lstm: tf.layers.lstm({ units: 2, name: 'lstm', ...SIG }),
      d: tf.layers.dense({ units: 2, name: 'dense' }),
      srnn: tf.layers.simpleRNN({ units: 3, returnSequences: true, name: 'simple_rnn' }),
      gru: tf.layers.gru({ units: 3, returnSequences: true, name: 'gru', ...SIG }),
      add1: tf.layers.add({ name: 'add_1' }),
      d1: tf.layers.dense({ units: 3, name: 'dense_1' }),
    };
    return { layers: L, forward(x) {
      const e = L.e.apply(x.ids), me = L.e.computeMask(x.ids);
      const s = L.add.apply([e, e]), ms = kerasMergeMask(tf, [me, me]);
      const p = L.d.apply(L.lstm.apply(s, { mask: ms }));
      const r = L.add1.apply([L.srnn.apply(s, { mask: ms }), L.gru.apply(e, { mask: me })]);
      return { p, q: L.d1.apply(r) };
    } };
  },
  data: (r) => ({ x: { ids: paddedIds(r, N, 6, 5) },
    y: { y: r.normal([N, 2], 0.5), z: r.normal([N, 6, 3], 0.5) }, n: N }),
  // q's mask: add_1's, the AND of simple_rnn's (= s's) and gru's (= e's).
  loss: (tf, o, y, x) => tf.add(mse(tf, o.p, y.y), mse(tf, o.q, y.z, maskTensor(tf, x.ids))),
};

cases.merge_concat_mask = {
  seq: path.join(MODELS, 'merge_concat_mask.seq'),
  outputs: ['p'],
  build(tf) {
    const L = {
      e: tf.layers.embedding({ inputDim: 6, outputDim: 3, maskZero: true, name: 'embedding' }),
      cat: tf.layers.concatenate({ name: 'concatenate' }),
      gru: tf.layers.gru({ units: 4, returnSequences: true, name: 'gru', ...SIG }),
      cat1: tf.layers.concatenate({ name: 'concatenate_1' }),
      d: tf.layers.dense({ units: 2, name: 'dense' }),
    };
    return { layers: L, forward(x) {
      const e = L.e.apply(x.ids), me = L.e.computeMask(x.ids);
      const c = L.cat.apply([e, x.x]);
      // tfjs's Concatenate.computeMask, as Keras's: [B, T] from [me, none].
      const mc = L.cat.computeMask([e, x.x], [me, null]);
      return { p: L.d.apply(L.cat1.apply([L.gru.apply(c, { mask: mc }), e])) };
    } };
  },
  data: (r) => ({ x: { ids: paddedIds(r, N, 6, 6), x: r.normal([N, 6, 2]) },
    y: { y: r.normal([N, 6, 2], 0.5) }, n: N }),
  loss: (tf, o, y, x) => mse(tf, o.p, y.y, maskTensor(tf, x.ids)),
};

cases.bidi_none_mask = {
  seq: path.join(MODELS, 'bidi_none_mask.seq'),
  outputs: ['f', 'b'],
  build(tf) {
    const L = {
      e: tf.layers.embedding({ inputDim: 7, outputDim: 4, maskZero: true, name: 'embedding' }),
      bi: tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true, name: 'lstm', ...SIG }),
        mergeMode: null, name: 'bidirectional' }),
    };
    return { layers: L, forward(x) {
      const [f, b] = L.bi.apply(L.e.apply(x.ids), { mask: L.e.computeMask(x.ids) });
      return { f, b };
    } };
  },
  data: (r) => ({ x: { ids: paddedIds(r, N, 6, 7) },
    y: { y1: r.normal([N, 6, 3], 0.5), y2: r.normal([N, 6, 3], 0.5) }, n: N }),
  // Both outputs carry the input's mask (Keras's Bidirectional.compute_mask).
  loss: (tf, o, y, x) => tf.add(mse(tf, o.f, y.y1, maskTensor(tf, x.ids)), mse(tf, o.b, y.y2, maskTensor(tf, x.ids))),
  compareOnly: (x) => {   // deviation 2
    const m = overFeatures(validSteps(x.ids), 3);
    return { f: m, b: m };
  },
};

// A whole training run of examples/goodbye.seq: `train --no-shuffle` for
// several epochs of Adam steps on batches in order (the last one partial)
// against the same loop in tfjs with Keras's Adam written out (deviation 8):
//   m <- m + (g - m)(1 - b1);  v <- v + (g^2 - v)(1 - b2)
//   w <- w - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), eps 1e-7
// (tf.train.adam would instead take lr * m_hat / (sqrt(v_hat) + eps)).
// Compared: the final weights and Adam's m and v as the program saves them.
const ADAM = { b1: 0.9, b2: 0.999, eps: 1e-7 };
const TRAIN = { epochs: 6, batchSize: 4, lr: 0.01 };
const GOODBYE_N = 10;

cases.goodbye_train = {
  seq: path.join(ROOT, 'examples', 'goodbye.seq'),
  build(tf) {
    const L = {
      rnn: tf.layers.simpleRNN({ units: 8, returnSequences: true, name: 'simple_rnn' }),
      d: tf.layers.dense({ units: 7, activation: 'softmax', name: 'dense' }),
    };
    return { layers: L, forward: (x) => ({ p: L.d.apply(L.rnn.apply(x.x)) }) };
  },
  data: (r) => ({ x: { x: r.oneHot([GOODBYE_N, 3, 7]) }, y: { y: r.oneHot([GOODBYE_N, 3, 7]) }, n: GOODBYE_N }),
  loss: (tf, o, y) => cce(tf, o.p, y.y),
  // The tfjs side of the run; returns {weights, m, v} by variable.
  fit(tf, built, xt, yt, vars) {
    const m = vars.map((v) => tf.zerosLike(v)), s = vars.map((v) => tf.zerosLike(v));
    let t = 0;
    for (let e = 0; e < TRAIN.epochs; e++) {
      for (let b = 0; b < GOODBYE_N; b += TRAIN.batchSize) {
        const k = Math.min(TRAIN.batchSize, GOODBYE_N - b);
        const batch = (d) => Object.fromEntries(Object.entries(d).map(([n, a]) => [n, tf.slice(a, b, k)]));
        const xb = batch(xt), yb = batch(yt);
        const { grads } = tf.variableGrads(() => this.loss(tf, built.forward(xb), yb), vars);
        t += 1;
        const alpha = TRAIN.lr * Math.sqrt(1 - ADAM.b2 ** t) / (1 - ADAM.b1 ** t);
        vars.forEach((v, i) => {
          const g = grads[v.name];
          m[i] = tf.add(m[i], tf.mul(tf.sub(g, m[i]), 1 - ADAM.b1));
          s[i] = tf.add(s[i], tf.mul(tf.sub(tf.square(g), s[i]), 1 - ADAM.b2));
          v.assign(tf.sub(v, tf.mul(alpha, tf.div(m[i], tf.add(tf.sqrt(s[i]), ADAM.eps)))));
        });
      }
    }
    return { m, v: s };
  },
};

module.exports = cases;
module.exports.goodbye_train.TRAIN = TRAIN;
