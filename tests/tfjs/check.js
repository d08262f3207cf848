#!/usr/bin/env node
// check.js: TensorFlow.js (tfjs-layers 4.22.0, the TensorFlow team's port of
// Keras, on its pure-JavaScript CPU backend) as a second, independent
// reference for seqc.
//
//   node tests/tfjs/check.js --seqc PATH/seqc --work DIR CASE
//
// A case (cases.js) is a .seq model and the same model built with tfjs
// layers. For each case this script
//   1. draws seeded random weights for the tfjs model (biases included) and
//      saves them as safetensors under seqc's names (Keras names and
//      layouts, which tfjs shares: LSTM kernel [in, 4u] in gate order
//      i f c o, GRU [in, 3u] in z r h, Conv1D [K, C, filters]);
//   2. builds the training program with seqc and runs `predict` and `grad`
//      on seeded inputs (one batch of all samples);
//   3. computes the outputs, Keras's loss and every gradient in tfjs
//      (tf.variableGrads over the model's trainable weights) and compares
//      them with the program's, within 1e-5 (lib.js states the measure).
// The `goodbye_train` case trains examples/goodbye.seq for several epochs
// and compares the weights and Adam's slots with the same loop in tfjs.
//
// Both sides compute in float32, so each figure is the round-off of both.
// Where tfjs differs from Keras, the reference follows Keras and the
// deviation is said where it matters (cases.js): Adam's epsilon, the
// outputs of Bidirectional at masked steps, no causal padding, the gradient
// of dilated convolutions and hard_sigmoid as the recurrent activation by
// default. None of these is copied into seqc.
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');

function loadTf() {
  try {
    return require('@tensorflow/tfjs');
  } catch (e) {
    console.error(`FAIL: the tfjs cross-checks need @tensorflow/tfjs in ${path.join(__dirname, 'node_modules')}` +
      ` (${e.code || e.message}).\n      run: npm ci --prefix tests/tfjs`);
    process.exit(1);
  }
}

function args() {
  const a = process.argv.slice(2);
  const get = (flag) => {
    const i = a.indexOf(flag);
    if (i < 0 || i + 1 >= a.length) usage(`missing ${flag}`);
    const v = a[i + 1];
    a.splice(i, 2);
    return v;
  };
  const seqc = get('--seqc');
  const work = get('--work');
  if (a.length !== 1) usage('one case name expected');
  return { seqc: path.resolve(seqc), work: path.resolve(work), name: a[0] };
}

function usage(msg) {
  const cases = Object.keys(require('./cases')).join(' ');
  console.error(`check.js: ${msg}\nusage: node check.js --seqc PATH --work DIR CASE\ncases: ${cases}`);
  process.exit(2);
}

// tfjs's name of a weight ("bidirectional/forward_lstm/kernel") as seqc's.
function seqcName(w, rename) {
  const n = w.originalName.replace(/\//g, '.');
  return (rename && rename[n]) || n;
}

const weightsOf = (built) => Object.values(built.layers).flatMap((l) => l.trainableWeights);

// Seeded weights in [-0.5, 0.5] (embeddings [-1, 1]) written into the tfjs
// layers; returns them by seqc name.
function drawWeights(tf, built, r) {
  const w = {};
  for (const v of weightsOf(built)) {
    const t = /embeddings$/.test(v.originalName) ? r.uniform(v.shape, -1, 1) : r.uniform(v.shape, -0.5, 0.5);
    v.write(tf.tensor(t.data, t.shape));
    w[seqcName(v, built.rename)] = t;
  }
  return w;
}

const host = (t) => ({ data: Float64Array.from(t.dataSync()), shape: t.shape });

function tensors(tf, arrays) {
  return Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, tf.tensor(a.data, a.shape, a.dtype)]));
}

async function checkCase(tf, c, a, rep) {
  const dir = path.join(a.work, a.name);
  fs.mkdirSync(dir, { recursive: true });
  const r = lib.rng(c.seed || 1);
  const { x, y, n } = c.data(r);
  const xt = tensors(tf, x), yt = tensors(tf, y);
  const built = c.build(tf);
  built.forward(xt);   // builds the layers (creates their weights)
  const w = drawWeights(tf, built, r);
  const wfile = lib.writeSafetensors(path.join(dir, 'W.safetensors'), w);
  const prog = new lib.Program(a.seqc, c.seq, dir);

  // outputs
  const got = prog.predict(wfile, x, c.outputs, n);
  const want = built.forward(xt);
  const keep = c.compareOnly ? c.compareOnly(x) : {};
  rep.group('predict', Object.fromEntries(c.outputs.map((o) => [o, [got[o], host(want[o]), keep[o]]])));

  // loss and gradients
  const ws = weightsOf(built);
  const vars = ws.map((v) => v.read());
  const { value, grads } = tf.variableGrads(() => c.loss(tf, built.forward(xt), yt, x, built), vars);
  const g = prog.grad(wfile, x, y);
  rep.group('loss', { loss: [{ data: [g.loss], shape: [] }, { data: [value.dataSync()[0]], shape: [] }] });
  const names = ws.map((v) => seqcName(v, built.rename));
  const missing = names.filter((k) => !(k in g.grads));
  const extra = Object.keys(g.grads).filter((k) => !names.includes(k));
  if (missing.length || extra.length) rep.fail(`gradient names: seqc lacks [${missing}], tfjs lacks [${extra}]`);
  const pairs = {};
  names.forEach((k, i) => {
    if (k in g.grads) pairs[k] = [g.grads[k], host(grads[vars[i].name])];
  });
  rep.group('grad', pairs);
}

// goodbye_train (cases.js): the program's `train` against a hand-written
// Keras Adam loop in tfjs, from the same weights.
async function checkTraining(tf, c, a, rep) {
  const dir = path.join(a.work, a.name);
  fs.mkdirSync(dir, { recursive: true });
  const r = lib.rng(c.seed || 1);
  const { x, y } = c.data(r);
  const xt = tensors(tf, x), yt = tensors(tf, y);
  const built = c.build(tf);
  built.forward(xt);
  const wfile = lib.writeSafetensors(path.join(dir, 'W.safetensors'), drawWeights(tf, built, r));
  const prog = new lib.Program(a.seqc, c.seq, dir);
  const got = prog.train(wfile, x, y, c.TRAIN);
  const ws = weightsOf(built);
  const vars = ws.map((v) => v.read());
  const { m, v } = c.fit(tf, built, xt, yt, vars);
  const names = ws.map((w) => seqcName(w, built.rename));
  const steps = c.TRAIN.epochs * Math.ceil(x.x.shape[0] / c.TRAIN.batchSize);
  for (const [what, prefix, ref] of [[`adam*${steps}`, '', vars], ['adam.m', 'optimizer.momentum.', m],
    ['adam.v', 'optimizer.velocity.', v]]) {
    const pairs = {};
    names.forEach((k, i) => {
      if (!(prefix + k in got)) rep.fail(`train --save lacks ${prefix + k}`);
      else pairs[k] = [got[prefix + k], host(ref[i])];
    });
    rep.group(what, pairs);
  }
}

async function main() {
  const a = args();
  const cases = require('./cases');
  const c = cases[a.name];
  if (!c) usage(`no case '${a.name}'`);
  const tf = loadTf();
  // The pure-JavaScript CPU backend: no native add-on, nothing downloaded.
  // (tfjs prints a hint about tfjs-node on the first op; it is harmless.)
  await tf.setBackend('cpu');
  if (tf.getBackend() !== 'cpu') throw new Error(`backend ${tf.getBackend()}, want cpu`);
  const rep = new lib.Report(a.name);
  console.log(`== ${a.name}: ${path.relative(path.join(__dirname, '../..'), c.seq)}`);
  try {
    await (c.fit ? checkTraining(tf, c, a, rep) : checkCase(tf, c, a, rep));
  } catch (e) {
    rep.fail(process.env.SEQ_TFJS_DEBUG ? e.stack : e.message);
  }
  rep.exit();
}

main();
