#!/usr/bin/env node
// roundtrip.js: a model goes Keras/TensorFlow.js -> seqc -> TensorFlow.js,
// for the examples tfjs-layers 4.22.0 can run.
//
//   node tests/tfjs/roundtrip.js --seqc PATH/seqc --work DIR MODEL
//
// Two roads in, one program:
//  tfjs   the example built with tfjs layers (Keras's layer names), seeded
//         weights, saved as a layers model and imported (import.js): the
//         .seq's parameter count is tfjs's countParams(), and the program's
//         predict with the imported weights is tfjs's predict within 1e-5;
//  keras  the example's Keras JSON, both forms (tests/import/models), with
//         weights in .h5 written by h5py in Keras's three layouts
//         (tests/import/h5_check.py: tf.keras 2 save_weights and
//         model.save, Keras 3 save_weights); the tf.keras 2 JSON read by
//         tfjs (tf.models.modelFromJSON) gives Keras's parameter count.
// Every import must give the same .seq (the header comment aside), so one
// program is built, and its `seqc summary` must be the example's. The
// target and train block a user adds for Keras's compile() are appended
// (the layers-model format and to_json() carry none); then, from each
// imported weights file, the program trains two epochs in batches of 2 (6
// Adam steps, which must change the weights), exports to tfjs, and
// tf.loadLayersModel's predict must be the program's within 1e-5, with the
// program's parameter count (export.js's checkExport).
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');
const { loadTf, checkExport } = require('./export');
const { caseArgs, drawWeights, saveAndImport, comparePredict } = require('./import');

const ROOT = path.join(__dirname, '..', '..');
const N = 4;                                  // samples for the import check
// Keras's defaults where tfjs's differ: kernels glorot_uniform (tfjs:
// glorot_normal), LSTM and GRU recurrent_activation sigmoid (tfjs:
// hard_sigmoid), LSTM unit_forget_bias true (tfjs: false).
// tfjs's Orthogonal initializer takes long on the CPU backend (~50 s for
// char_lstm's 128 x 512 matrix) and every weight is drawn anew here, so
// recurrent layers are built with zeros and then given back Keras's
// default, Orthogonal(gain=1), which is all their saved config holds.
const K = { kernelInitializer: 'glorotUniform' };
const RNN = { ...K, recurrentInitializer: 'zeros' };
const LSTM = { ...RNN, recurrentActivation: 'sigmoid', unitForgetBias: true };

function kerasRecurrentInit(tf, model) {
  for (const l of model.layers) {
    if (l.cell) l.cell.recurrentInitializer = tf.initializers.orthogonal({ gain: 1 });
  }
}

// Each model: build(tf) as the example with Keras's names; data(r) inputs
// in the model's input order; train: [target declaration, loss];
// keras: whether tests/import/models has its Keras JSON; tfjsRuns: false
// where tfjs cannot run the model as built (Conv1D causal padding throws
// NotImplementedError in tfjs 4.22; the export lowers it).
const MODELS = {
  goodbye: {
    build: (tf) => tf.sequential({ name: 'goodbye', layers: [
      tf.layers.simpleRNN({ ...RNN, name: 'simple_rnn', units: 8, returnSequences: true, inputShape: [3, 7] }),
      tf.layers.dense({ ...K, name: 'dense', units: 7, activation: 'softmax' })] }),
    data: (r) => [r.normal([N, 3, 7])],
    train: ['y : [3, 7]', 'categorical_crossentropy(dense, y)'],
    keras: true,
  },
  hello: {
    build: (tf) => {
      const feat = tf.input({ shape: [3, 4], name: 'feat' });
      const h = tf.layers.simpleRNN({ ...RNN, name: 'simple_rnn', units: 8, returnSequences: true }).apply(feat);
      const p = tf.layers.dense({ ...K, name: 'dense', units: 4, activation: 'softmax' }).apply(h);
      return tf.model({ name: 'hello', inputs: feat, outputs: p });
    },
    data: (r) => [r.normal([N, 3, 4])],
    train: ['classes : [3, 4]', 'categorical_crossentropy(dense, classes)'],
    keras: true,
  },
  simple_rnn: {
    build: (tf) => tf.sequential({ name: 'simple_rnn', layers: [
      tf.layers.simpleRNN({ ...RNN, name: 'simple_rnn', units: 32, inputShape: [null, 10] }),
      tf.layers.dense({ ...K, name: 'dense', units: 1 })] }),
    data: (r) => [r.normal([N, 6, 10])],
    train: ['y : [1]', 'mse(dense, y)'],
    keras: true,
  },
  lstm_stack: {
    build: (tf) => tf.sequential({ name: 'lstm_stack', layers: [
      tf.layers.lstm({ name: 'lstm', units: 64, returnSequences: true, inputShape: [null, 10], ...LSTM }),
      tf.layers.lstm({ name: 'lstm_1', units: 32, ...LSTM }),
      tf.layers.dense({ ...K, name: 'dense', units: 1 })] }),
    data: (r) => [r.normal([N, 6, 10])],
    train: ['y : [1]', 'mse(dense, y)'],
    keras: true,
  },
  seq2seq: {
    build: (tf) => {
      const enc = tf.input({ shape: [null, 10], name: 'encoder_inputs' });
      const dec = tf.input({ shape: [null, 8], name: 'decoder_inputs' });
      const [, h, c] = tf.layers.lstm({ name: 'lstm', units: 32, returnState: true, ...LSTM }).apply(enc);
      const [d] = tf.layers.lstm({ name: 'lstm_1', units: 32, returnSequences: true, returnState: true, ...LSTM })
        .apply(dec, { initialState: [h, c] });
      const p = tf.layers.dense({ ...K, name: 'dense', units: 8, activation: 'softmax' }).apply(d);
      return tf.model({ name: 'seq2seq', inputs: [enc, dec], outputs: p });
    },
    data: (r) => [r.normal([N, 5, 10]), r.normal([N, 6, 8])],
    train: ['decoder_target : [Td, 8]', 'categorical_crossentropy(dense, decoder_target)'],
    keras: true,
  },
  wavenet: {
    build: (tf) => tf.sequential({ name: 'wavenet', layers: [
      ...[1, 2, 4, 8, 1, 2, 4, 8].map((d, i) => tf.layers.conv1d({ ...K, name: i ? `conv1d_${i}` : 'conv1d',
        filters: 20, kernelSize: 2, padding: 'causal', activation: 'relu', dilationRate: d,
        ...(i ? {} : { inputShape: [null, 1] }) })),
      tf.layers.conv1d({ ...K, name: 'conv1d_8', filters: 10, kernelSize: 1 })] }),
    train: ['y : [T, 10]', 'mse(conv1d_8, y)'],
    keras: true,
    tfjsRuns: false,
  },
  char_lstm: {        // stateful, so tfjs fixes the batch size
    example: 'examples/charlm/char_lstm.seq',
    build: (tf) => tf.sequential({ name: 'char_lstm', layers: [
      tf.layers.embedding({ name: 'embedding', inputDim: 96, outputDim: 32, batchInputShape: [N, null] }),
      tf.layers.lstm({ name: 'lstm', units: 128, returnSequences: true, stateful: true, ...LSTM }),
      tf.layers.dense({ ...K, name: 'dense', units: 96 })] }),
    data: (r) => [r.ints([N, 6], 0, 96)],
    train: ['next : int[T]', 'sparse_categorical_crossentropy(dense, next, from_logits=true)'],
  },
  lstm_forecast: {
    example: 'examples/forecast/lstm_forecast.seq',
    build: (tf) => tf.sequential({ name: 'lstm_forecast', layers: [
      tf.layers.lstm({ name: 'lstm', units: 32, inputShape: [null, 1], ...LSTM }),
      tf.layers.dense({ ...K, name: 'dense', units: 1 })] }),
    data: (r) => [r.normal([N, 6, 1])],
    train: ['y : [1]', 'mse(dense, y)'],
  },
  rnn_forecast: {
    example: 'examples/forecast/rnn_forecast.seq',
    build: (tf) => tf.sequential({ name: 'rnn_forecast', layers: [
      tf.layers.simpleRNN({ ...RNN, name: 'simple_rnn', units: 32, inputShape: [null, 1] }),
      tf.layers.dense({ ...K, name: 'dense', units: 1 })] }),
    data: (r) => [r.normal([N, 6, 1])],
    train: ['y : [1]', 'mse(dense, y)'],
  },
};

const body = (seq) => fs.readFileSync(seq, 'utf8').replace(/^#.*\n/gm, '');

function summaryParams(seqc, seq) {
  return Number(/Total params: ([\d,]+)/.exec(lib.run(seqc, ['summary', seq]))[1].replace(/,/g, ''));
}

// The Keras road: {source: {seq, weights}} for the three .h5 files, and
// Keras's parameter count checked against each .seq.
async function kerasImports(tf, a, rep) {
  const work = path.join(a.work, `roundtrip_${a.name}`);
  console.log(lib.run('/usr/bin/python3', [path.join(ROOT, 'tests/import/h5_check.py'),
    '--seqc', a.seqc, '--work', work, a.name]).trim().replace(/^/gm, '  h5: '));
  // only counted: Orthogonal initializers made Zeros, which tfjs runs fast
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, `tests/import/models/${a.name}.tf2.json`), 'utf8')
    .replace(/"class_name": "Orthogonal"/g, '"class_name": "Zeros"'));
  const keras = (await tf.models.modelFromJSON(json)).countParams();
  const out = {};
  for (const src of ['tf2.weights.h5', 'model.h5', 'k3.weights.h5']) {
    const seq = path.join(work, a.name, `${src}.seq`);
    const total = summaryParams(a.seqc, seq);
    rep.line('params', `${src}: seqc ${total}, Keras ${keras}`, total === keras ? 0 : Infinity, 0,
      'the tf.keras 2 JSON counted by tfjs');
    out[src] = { seq, weights: path.join(work, a.name, `${src}.safetensors`) };
  }
  return out;
}

async function main() {
  const a = caseArgs('roundtrip.js', MODELS, 'model');
  const m = MODELS[a.name];
  const rep = new lib.Report(`roundtrip ${a.name}`);
  console.log(`== roundtrip ${a.name}`);
  const tf = loadTf();
  await tf.setBackend('cpu');
  try {
    const dir = path.join(a.work, `roundtrip_${a.name}`, 'tfjs');
    const r = lib.rng(11);
    const model = m.build(tf);
    kerasRecurrentInit(tf, model);
    drawWeights(tf, model, r);
    const imports = { tfjs: await saveAndImport(tf, a.seqc, model, dir, rep) };
    if (m.keras) Object.assign(imports, await kerasImports(tf, a, rep));

    const ref = imports.tfjs.seq;
    for (const [src, { seq }] of Object.entries(imports)) {
      if (body(seq) !== body(ref)) rep.fail(`${src}: the imported .seq differs from tfjs's (${seq}, ${ref})`);
    }
    const trainable = path.join(path.dirname(dir), 'model.seq');
    const [target, loss] = m.train;
    fs.writeFileSync(trainable, `${fs.readFileSync(ref, 'utf8')}\ntarget ${target}\n\n` +
      `train {\n    loss      = ${loss}\n    optimizer = adam\n}\n`);
    // the model is the example: the same summary (layers, shapes, counts)
    const example = path.join(ROOT, m.example || `examples/${a.name}.seq`);
    const same = lib.run(a.seqc, ['summary', trainable]) === lib.run(a.seqc, ['summary', example]);
    rep.line('summary', `the import's is ${path.relative(ROOT, example)}'s`, same ? 0 : Infinity, 0, 'byte for byte');
    const prog = new lib.Program(a.seqc, trainable, path.dirname(dir));
    console.log('  -- imported from tfjs, before training: the program against tfjs');
    if (m.tfjsRuns !== false) {
      comparePredict(tf, prog, trainable, imports.tfjs.weights, model, m.data(r), rep);
    } else {
      console.log('  predict  (tfjs cannot run the model as built: only the export is compared)');
    }
    for (const [src, { weights }] of Object.entries(imports)) {
      console.log(`  -- from ${src}`);
      const trained = await checkExport(tf, { seqc: a.seqc, seq: trainable }, prog, rep,
        { load: weights, tag: `${src}_` });
      const before = lib.readSafetensors(weights), after = lib.readSafetensors(trained);
      const moved = Object.keys(before).filter((k) => before[k].data.some((v, i) => v !== after[k].data[i]));
      if (!moved.length) rep.fail(`${src}: training changed no weight`);
      else console.log(`  train    ${moved.length} of ${Object.keys(before).length} tensors changed`);
    }
  } catch (e) {
    rep.fail(process.env.SEQ_TFJS_DEBUG ? e.stack : e.message);
  }
  rep.exit();
}

main();
