#!/usr/bin/env node
// import.js: `seqc import` of TensorFlow.js layers models (tfjs-layers
// 4.22.0 on its pure-JavaScript CPU backend).
//
//   node tests/tfjs/import.js --seqc PATH/seqc --work DIR CASE
//
// For each case the model is built with tfjs layers, given seeded random
// weights, and saved as a layers model (model.json with modelTopology and
// weightsManifest, plus weights.bin) through tf.io.withSaveHandler, as
// model.save('file://...') would write it (that needs tfjs-node). Then
//   1. seqc import model.json -o model.seq --weights W.safetensors;
//   2. the .seq's parameter count must be tfjs's countParams();
//   3. seqc build, the program's predict on seeded inputs, and tfjs's
//      model.predict on the same inputs agree within 1e-5 (lib.js).
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const N = 4;   // samples

// Each case: build(tf) -> tfjs model; data(r) -> {input name: array}.
const CASES = {
  sequential_rnn: {   // Sequential: SimpleRNN -> Dense, tfjs's auto names
    build: (tf) => tf.sequential({ layers: [
      tf.layers.simpleRNN({ units: 6, inputShape: [null, 3], returnSequences: true }),
      tf.layers.dense({ units: 2, activation: 'tanh' })] }),
    data: (r) => [r.normal([N, 5, 3])],
  },
  lstm_stack: {       // two LSTMs (tfjs's default recurrent activation: hard_sigmoid)
    build: (tf) => tf.sequential({ layers: [
      tf.layers.lstm({ units: 8, inputShape: [7, 4], returnSequences: true }),
      tf.layers.lstm({ units: 5, recurrentActivation: 'sigmoid', unitForgetBias: false }),
      tf.layers.dense({ units: 3, activation: 'softmax' })] }),
    data: (r) => [r.normal([N, 7, 4])],
  },
  gru_embedding: {    // tfjs's GRU is reset_after=false
    build: (tf) => tf.sequential({ layers: [
      tf.layers.embedding({ inputDim: 11, outputDim: 4, inputLength: 6 }),
      tf.layers.gru({ units: 5, returnSequences: true, goBackwards: true }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3 }) })] }),
    data: (r) => [r.ints([N, 6], 0, 11)],
  },
  conv_flatten: {
    build: (tf) => tf.sequential({ layers: [
      tf.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [9, 2] }),
      tf.layers.conv1d({ filters: 3, kernelSize: 2, dilationRate: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2 })] }),
    data: (r) => [r.normal([N, 9, 2])],
  },
  seq2seq_bidi: {     // functional: states passed on, Bidirectional, Concatenate, RepeatVector
    build: (tf) => {
      const enc = tf.input({ shape: [null, 4], name: 'encoder_inputs' });
      const dec = tf.input({ shape: [null, 3], name: 'decoder_inputs' });
      const [, h, c] = tf.layers.lstm({ units: 6, returnState: true, recurrentActivation: 'sigmoid' }).apply(enc);
      const d = tf.layers.lstm({ units: 6, returnSequences: true, recurrentActivation: 'sigmoid' })
        .apply(dec, { initialState: [h, c] });
      const b = tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 3, returnSequences: true }),
        mergeMode: 'sum' }).apply(d);
      const j = tf.layers.concatenate().apply([d, b]);
      const out = tf.layers.dense({ units: 2, activation: 'sigmoid' }).apply(j);
      return tf.model({ inputs: [enc, dec], outputs: out });
    },
    data: (r) => [r.normal([N, 5, 4]), r.normal([N, 5, 3])],
    time: 5,
  },
  shared: {          // one layer called on two inputs: a shared `layer`
    build: (tf) => {
      const a = tf.input({ shape: [6, 3], name: 'a' });
      const b = tf.input({ shape: [6, 3], name: 'b' });
      const enc = tf.layers.gru({ units: 4 });
      const j = tf.layers.add().apply([enc.apply(a), enc.apply(b)]);
      return tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 1 }).apply(j) });
    },
    data: (r) => [r.normal([N, 6, 3]), r.normal([N, 6, 3])],
  },
};

// --seqc PATH --work DIR NAME, NAME one of table's keys; usage and exit 2
// otherwise. Shared by the scripts that take a case by name.
function caseArgs(script, table, noun) {
  const a = process.argv.slice(2);
  const get = (flag) => {
    const i = a.indexOf(flag);
    if (i < 0 || i + 1 >= a.length) throw new Error(`missing ${flag}`);
    const v = a[i + 1];
    a.splice(i, 2);
    return v;
  };
  const seqc = path.resolve(get('--seqc'));
  const work = path.resolve(get('--work'));
  if (a.length !== 1 || !table[a[0]]) {
    console.error(`usage: node ${script} --seqc PATH --work DIR ${noun.toUpperCase()}\n` +
                  `${noun}s: ${Object.keys(table).join(' ')}`);
    process.exit(2);
  }
  return { seqc, work, name: a[0] };
}

// Seeded weights in [-0.5, 0.5] (embeddings in [-1, 1]) for every weight.
function drawWeights(tf, model, r) {
  for (const w of model.weights) {
    const t = /embeddings$/.test(w.originalName) ? r.uniform(w.shape, -1, 1) : r.uniform(w.shape, -0.5, 0.5);
    w.write(tf.tensor(t.data, t.shape));
  }
}

// Save `model` in DIR in the layers-model format, as model.save() writes
// it, and `seqc import` it: {seq, weights} (DIR/model.seq, W.safetensors).
// The .seq's parameter count must be tfjs's countParams().
async function saveAndImport(tf, seqc, model, dir, rep) {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (art) => {
    const json = { format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null, modelTopology: art.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }] };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(art.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const seq = path.join(dir, 'model.seq'), weights = path.join(dir, 'W.safetensors');
  lib.run(seqc, ['import', path.join(dir, 'model.json'), '-o', seq, '--weights', weights]);
  const summary = lib.run(seqc, ['summary', seq]);
  const total = Number(/Total params: (\d+)/.exec(summary)[1]);
  rep.line('params', `seqc ${total}, tfjs ${model.countParams()}`, total === model.countParams() ? 0 : Infinity, 0, 'exact');
  return { seq, weights };
}

// The program's predict (weights W) against tfjs's model.predict on the
// inputs xs, given in the model's input order; the .seq names them.
function comparePredict(tf, prog, seq, weights, model, xs, rep) {
  const text = fs.readFileSync(seq, 'utf8');
  const names = [...text.matchAll(/^input (\w+) :/gm)].map((m) => m[1]);
  const x = Object.fromEntries(names.map((n, i) => [n, xs[i]]));
  const outName = /^output (.*)$/m.exec(text)[1].split(',').map((s) => s.trim());
  const got = prog.predict(weights, x, outName, xs[0].shape[0]);
  const want = model.predict(xs.map((t) => tf.tensor(t.data, t.shape, t.dtype)));
  const wants = Array.isArray(want) ? want : [want];
  rep.group('predict', Object.fromEntries(outName.map((o, i) =>
    [o, [got[o], { data: Float64Array.from(wants[i].dataSync()), shape: wants[i].shape }]])));
}

async function main() {
  const a = caseArgs('import.js', CASES, 'case');
  let tf;
  try {
    tf = require('@tensorflow/tfjs');
  } catch (e) {
    console.error('FAIL: needs @tensorflow/tfjs: npm ci --prefix tests/tfjs');
    process.exit(1);
  }
  await tf.setBackend('cpu');
  const c = CASES[a.name];
  const rep = new lib.Report(`import ${a.name}`);
  const dir = path.join(a.work, `import_${a.name}`);
  try {
    const r = lib.rng(11);
    const model = c.build(tf);
    drawWeights(tf, model, r);
    const { seq, weights } = await saveAndImport(tf, a.seqc, model, dir, rep);
    comparePredict(tf, new lib.Program(a.seqc, seq, dir), seq, weights, model, c.data(r), rep);
  } catch (e) {
    rep.fail(process.env.SEQ_TFJS_DEBUG ? e.stack : e.message);
  }
  rep.exit();
}

if (require.main === module) main();

module.exports = { caseArgs, drawWeights, saveAndImport, comparePredict };
